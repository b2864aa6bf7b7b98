package kafka

import (
	"github.com/corpusflow/corpusflow/flow"
)

// NewLink is called when a pipeline whose transport is kafka runs in one
// process (`corpusflow run`): the same file then runs in memory, exactly as
// without a transport section, and says so once. Over Kafka each step runs
// as its own worker (`corpusflow stage`), which uses RunSources, RunStage and
// RunSinks, not links.
func (t *Transport) NewLink(from, to string) (flow.Link, error) {
	t.inProcessOnce.Do(func() {
		t.logger.Info("transport kafka: this process runs every stage itself, over memory links; start `corpusflow stage PIPELINE.yaml --stage NAME` workers to run over Kafka")
	})
	return flow.MemoryTransport{Capacity: 8}.NewLink(from, to)
}
