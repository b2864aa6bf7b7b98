// Package pipelines parses and validates the YAML pipeline definitions users
// run, and builds them into a flow.Plan. The definitions themselves live
// beside this code (quickstart.yaml, c4-en.yaml, ...); README.md documents the
// schema.
//
// Parsing is strict and happens before any work starts: unknown keys, unknown
// component names, wrong types, missing required parameters and missing input
// paths are all reported at once as FILE:LINE:COLUMN: message.
package pipelines

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/corpusflow/corpusflow/flow"
)

// Pipeline is a parsed, validated pipeline definition.
type Pipeline struct {
	// File is the path the pipeline was loaded from, as given.
	File        string
	Name        string
	Description string
	// Output is the output directory, resolved against the file's directory.
	Output  string
	Workers int
	Sources []*Component
	Stages  []*Component
	Sinks   []*Component
	// Rejects configures the rejects file; nil when rejects are only counted.
	Rejects *RejectsConfig
	// Transport says how stages are connected: "memory" (default) or
	// another registered transport.
	Transport *Component
	// Sections holds the configuration of optional top-level sections that
	// other packages register (train:), decoded into their types.
	Sections map[string]any
	// SHA256 is the hex checksum of the file's bytes: outputs record it so a
	// consumer can tell which definition made them.
	SHA256 string
	// BaseDir is the directory of File; relative input paths resolve there.
	BaseDir string
}

// Component is one configured source, stage or sink.
type Component struct {
	Kind flow.Kind
	// Name is unique among its kind in the pipeline: the `name:` key, or the
	// registered name, numbered when it repeats ("exact_dedup_2").
	Name string
	// Use is the registered name (`use:` for stages, `type:` otherwise).
	Use    string
	Config any // pointer to the component's configuration struct
	// Line and Column locate the component in the file, for build errors.
	Line, Column int

	spec *flow.Component
	node *ast.MappingNode
}

// RejectsConfig configures the rejects file.
type RejectsConfig struct {
	Path string `yaml:"path" help:"rejects file; .jsonl, .jsonl.gz or .jsonl.zst" required:"true" path:"output"`
	// Text controls whether the rejected text is written (it is by default, so
	// a reviewer can read why a record went).
	Text bool `yaml:"text" help:"write the rejected record's text"`
}

// Load reads, parses and validates a pipeline file.
func Load(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates a pipeline given its bytes; path names it in messages and
// anchors relative paths.
func Parse(path string, data []byte) (*Pipeline, error) {
	problems := &problemList{file: path}
	sum := sha256.Sum256(data)
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	p := &Pipeline{File: path, SHA256: hex.EncodeToString(sum[:]), BaseDir: base, Sections: map[string]any{}}

	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		problems.atError(err)
		return nil, problems.err()
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		problems.at(nil, "expected exactly one YAML document with the pipeline")
		return nil, problems.err()
	}
	root, ok := file.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		problems.atNode(file.Docs[0].Body, "the pipeline must be a mapping with keys %s", choices(topLevelKeys()))
		return nil, problems.err()
	}
	d := &decoder{problems: problems, base: base}
	d.pipeline(p, root)
	checkOutputClashes(p, problems)
	if err := problems.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// ComponentsOf returns a pipeline's components of a kind.
func (p *Pipeline) ComponentsOf(kind flow.Kind) []*Component {
	switch kind {
	case flow.KindSource:
		return p.Sources
	case flow.KindStage:
		return p.Stages
	case flow.KindSink:
		return p.Sinks
	}
	return nil
}

// Stage returns the first stage that uses the registered name, or nil.
func (p *Pipeline) Stage(use string) *Component {
	for _, s := range p.Stages {
		if s.Use == use {
			return s
		}
	}
	return nil
}

func (c *Component) where(file string) string {
	return fmt.Sprintf("%s:%d:%d", file, c.Line, c.Column)
}
