package pipelines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// Components registered only for these tests, so the parser is tested
// without depending on what the domain packages register.
type testSourceConfig struct {
	Path  string   `yaml:"path" required:"true" path:"input" help:"input"`
	Extra []string `yaml:"extra" path:"input" help:"more inputs"`
}

type testStageConfig struct {
	MinWords int      `yaml:"min_words" help:"minimum words"`
	Mode     string   `yaml:"mode" choices:"fast,exact" help:"how"`
	Langs    []string `yaml:"languages" choices:"en,zh" help:"languages"`
	Score    float64  `yaml:"min_score" help:"score"`
	Sets     []struct {
		Name string `yaml:"name" required:"true" help:"name"`
		Path string `yaml:"path" required:"true" path:"input" help:"file"`
	} `yaml:"test_sets" help:"test sets"`
}

func (c *testStageConfig) Validate() error {
	if c.Score < 0 || c.Score > 1 {
		return &flow.FieldError{Field: "min_score", Err: fmt.Errorf("must be within [0, 1], got %g", c.Score)}
	}
	return nil
}

type nopStage struct{}

func (nopStage) Process(*flow.Record) string { return "" }

func init() {
	flow.RegisterSource("test_files", "test source", testSourceConfig{},
		func(c *testSourceConfig, env *flow.Env) (flow.Source, error) { return nil, nil })
	flow.RegisterStage("test_stage", "test stage", testStageConfig{MinWords: 5, Mode: "fast", Score: 0.5},
		func(c *testStageConfig, env *flow.Env) (flow.Stage, error) { return nopStage{}, nil })
}

// writePipeline writes a pipeline and an input file beside it.
func writePipeline(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const validPipeline = `name: demo
output: out
workers: 2
sources:
  - type: test_files
    path: in.txt
stages:
  - use: test_stage
    min_words: 3
    languages: [en, zh]
    test_sets:
      - name: a
        path: in.txt
  - use: test_stage
    mode: exact
sinks:
  - type: jsonl
    path: kept.jsonl
rejects:
  path: rejects.jsonl.gz
`

func TestParseValid(t *testing.T) {
	path := writePipeline(t, validPipeline)
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	if p.Name != "demo" || p.Workers != 2 || p.Output != filepath.Join(dir, "out") {
		t.Fatalf("pipeline: %+v", p)
	}
	if got := p.Sources[0].Config.(*testSourceConfig).Path; got != filepath.Join(dir, "in.txt") {
		t.Errorf("input path not resolved against the pipeline's directory: %s", got)
	}
	st := p.Stages[0].Config.(*testStageConfig)
	if st.MinWords != 3 || st.Mode != "fast" || st.Score != 0.5 || len(st.Langs) != 2 || st.Sets[0].Path != filepath.Join(dir, "in.txt") {
		t.Errorf("stage config (defaults must survive): %+v", st)
	}
	if p.Stages[0].Name != "test_stage" || p.Stages[1].Name != "test_stage_2" {
		t.Errorf("repeated stages must get unique names: %s, %s", p.Stages[0].Name, p.Stages[1].Name)
	}
	if len(p.SHA256) != 64 || p.Rejects == nil || !p.Rejects.Text {
		t.Errorf("sha %q rejects %+v", p.SHA256, p.Rejects)
	}
}

func TestParseProblems(t *testing.T) {
	cases := []struct {
		name string
		edit func(string) string
		want string // substring of the message, after "FILE:"
	}{
		{"unknown top-level key", func(s string) string { return s + "outptu: x\n" },
			`21:1: unknown top-level key "outptu"; valid: name, description, output, workers, sources, stages, sinks, rejects, transport or train`},
		{"unknown stage", func(s string) string {
			return strings.Replace(s, "use: test_stage\n    mode", "use: test_stag\n    mode", 1)
		},
			`14:10: unknown stage "test_stag"; valid: `},
		{"did you mean", func(s string) string {
			return strings.Replace(s, "use: test_stage\n    mode", "use: test_stag\n    mode", 1)
		},
			`(did you mean "test_stage"?)`},
		{"two components write one path", func(s string) string {
			return strings.Replace(s, "    path: kept.jsonl\n", "    path: kept.jsonl\n  - type: jsonl\n    path: ./kept.jsonl\n", 1)
		},
			`19:5: sink jsonl_2 writes its path to kept.jsonl, where sink jsonl writes its path; give one of them another path`},
		{"unknown parameter", func(s string) string { return strings.Replace(s, "min_words: 3", "min_wrods: 3", 1) },
			`9:5: unknown parameter for stage test_stage "min_wrods"; valid: min_words, mode, languages, min_score or test_sets (did you mean "min_words"?)`},
		{"wrong type", func(s string) string { return strings.Replace(s, "min_words: 3", "min_words: three", 1) },
			`9:16: stage test_stage: min_words: expected an integer, got string "three"`},
		{"bad choice", func(s string) string { return strings.Replace(s, "mode: exact", "mode: quick", 1) },
			`15:11: stage test_stage: unknown mode value "quick"; valid: fast or exact`},
		{"bad choice in list", func(s string) string { return strings.Replace(s, "[en, zh]", "[en, fr]", 1) },
			`unknown languages value "fr"; valid: en or zh`},
		{"missing input", func(s string) string {
			return strings.Replace(s, "path: in.txt\nstages", "path: missing.txt\nstages", 1)
		},
			`6:11: source test_files: path: `},
		{"glob matches nothing", func(s string) string {
			return strings.Replace(s, "path: in.txt\nstages", "path: \"*.warc.gz\"\nstages", 1)
		},
			`matches no file`},
		{"missing required", func(s string) string { return strings.Replace(s, "    path: in.txt\nstages", "stages", 1) },
			`5:5: source test_files: missing required parameter "path"`},
		{"nested unknown key", func(s string) string { return strings.Replace(s, "- name: a", "- nmae: a", 1) },
			`12:9: unknown parameter for stage test_stage test_sets[0] "nmae"`},
		{"nested missing input", func(s string) string {
			return strings.Replace(s, "name: a\n        path: in.txt", "name: a\n        path: nope.json", 1)
		}, `13:15: stage test_stage test_sets[0]: path: `},
		{"validate field error", func(s string) string { return strings.Replace(s, "mode: exact", "mode: exact\n    min_score: 3", 1) },
			`16:16: stage test_stage: min_score: must be within [0, 1], got 3`},
		{"negative workers", func(s string) string { return strings.Replace(s, "workers: 2", "workers: -1", 1) },
			`3:10: workers must be 0 (all cores) or more, got -1`},
		{"syntax error", func(s string) string { return strings.Replace(s, "workers: 2", "workers: [2", 1) },
			`p.yaml:4:1: ',' or ']' must be specified`},
		{"stages not a list", func(s string) string {
			return strings.Replace(s, "sinks:\n  - type: jsonl\n    path: kept.jsonl", "sinks: kept.jsonl", 1)
		},
			`16:8: sinks must be a list, got string "kept.jsonl"`},
		{"missing name", func(s string) string { return strings.Replace(s, "name: demo\n", "", 1) },
			`missing required key "name"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writePipeline(t, c.edit(validPipeline))
			_, err := Load(path)
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error is %T, want Problems: %v", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("message does not start with the file name: %s", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("got:\n%s\nwant it to contain:\n%s", msg, c.want)
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	body := strings.Replace(strings.Replace(validPipeline, "min_words: 3", "min_words: x", 1), "mode: exact", "mode: y", 1)
	_, err := Load(writePipeline(t, body))
	if err == nil || len(err.(Problems)) != 2 {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

func TestBuildRunsAndResolvesOutputs(t *testing.T) {
	path := writePipeline(t, strings.Replace(validPipeline, "type: test_files\n    path: in.txt", "type: test_files\n    path: in.txt", 1))
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// test_files builds a nil source; replace it to run the plan.
	p.Sources = nil
	b, err := p.Build(BuildOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if b.Workers != 3 || b.OutputDir != filepath.Join(filepath.Dir(path), "out") {
		t.Fatalf("built %+v", b)
	}
	if _, err := flow.Run(context.Background(), b.Plan); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"kept.jsonl", "rejects.jsonl.gz"} {
		if _, err := os.Stat(filepath.Join(b.OutputDir, f)); err != nil {
			t.Errorf("output %s: %v", f, err)
		}
	}
}
