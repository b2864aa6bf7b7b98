package pipelines

// Every package that registers sources, stages or sinks is imported here, so
// that whatever builds pipelines (the binary, tests) sees all of them. A new
// package of components adds one line.
import (
	_ "github.com/corpusflow/corpusflow/dedup"
	_ "github.com/corpusflow/corpusflow/filter"
	_ "github.com/corpusflow/corpusflow/flow/kafka"
	_ "github.com/corpusflow/corpusflow/ingest"
	_ "github.com/corpusflow/corpusflow/pack"
	_ "github.com/corpusflow/corpusflow/sinks"
	_ "github.com/corpusflow/corpusflow/tokenize"
	_ "github.com/corpusflow/corpusflow/trainer"
)
