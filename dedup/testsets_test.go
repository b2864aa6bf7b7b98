package dedup

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func TestParseJSONL(t *testing.T) {
	cases := []struct {
		name        string
		data        string
		wantIDs     []string
		wantSkipped int
		wantBad     []int // line numbers
		wantErr     bool
	}{
		{"good lines, ids by line number", "{\"text\":\"a\"}\n\n{\"text\":\"b\"}\n", []string{"1", "3"}, 0, nil, false},
		{"a line without text is skipped", "{\"text\":\"a\"}\n{\"other\":1}\n{\"text\":\"  \"}\n", []string{"1"}, 2, nil, false},
		{"a broken line is skipped, the rest is read", "{\"text\":\"a\"}\n{\"text\": \"b\n{\"text\":\"c\"}\n", []string{"1", "3"}, 1, []int{2}, false},
		{"a JSON value that is not an object", "[1,2]\n\"text\"\n{\"text\":\"c\"}\n", []string{"3"}, 2, []int{1, 2}, false},
		{"every line broken", "x\ny\n", nil, 2, []int{1, 2}, false},
		{"CRLF endings", "{\"text\":\"a\"}\r\n{\"text\":\"b\"}\r\n", []string{"1", "2"}, 0, nil, false},
		{"a line over 64 MB is an error", "{\"text\":\"" + strings.Repeat("a", 64<<20) + "\"}\n", nil, 0, nil, true},
	}
	for _, c := range cases {
		items, skipped, bad, err := parseJSONL([]byte(c.data), "", "")
		if (err != nil) != c.wantErr {
			t.Errorf("%s: err = %v", c.name, err)
			continue
		}
		var gotIDs []string
		for _, it := range items {
			gotIDs = append(gotIDs, it.ID)
		}
		var gotBad []int
		for _, b := range bad {
			gotBad = append(gotBad, b.Line)
			if !strings.HasPrefix(b.Err, "not a JSON object: ") {
				t.Errorf("%s: line %d error %q", c.name, b.Line, b.Err)
			}
		}
		if !reflect.DeepEqual(gotIDs, c.wantIDs) || skipped != c.wantSkipped || !reflect.DeepEqual(gotBad, c.wantBad) {
			t.Errorf("%s: ids %v skipped %d bad %v; want %v %d %v", c.name, gotIDs, skipped, gotBad, c.wantIDs, c.wantSkipped, c.wantBad)
		}
	}
}

// TestBadTestSetLineIsSkippedAndReported: a JSONL test set with a broken
// line still checks its other items; the line is logged with file:line and
// listed in the report's parameters.
func TestBadTestSetLineIsSkippedAndReported(t *testing.T) {
	items := loadItems(t, xquadSpec())
	warsaw := itemByID(t, items, "Warsaw/3")
	dir := t.TempDir()
	set := filepath.Join(dir, "mine.jsonl")
	line1, _ := json.Marshal(map[string]string{"id": "w3", "text": warsaw.Text})
	line3, _ := json.Marshal(map[string]string{"id": "other", "text": items[0].Text})
	data := string(line1) + "\n{\"id\": \"broken\", \"text\": \"unterminated\n" + string(line3) + "\n"
	if err := os.WriteFile(set, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	out := filepath.Join(dir, "out")
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = []TestSetSpec{{Name: "mine", Type: "jsonl", Path: set, IDField: "id"}}
	cfg.Action = "flag"
	cfg.Report = out
	env := &flow.Env{Counters: &flow.Counters{}, OutputDir: out, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	st, err := NewDecontaminator(cfg, env)
	if err != nil {
		t.Fatalf("a broken line failed the whole test set: %v", err)
	}
	if !strings.Contains(logs.String(), set+":2: line skipped: not a JSON object") {
		t.Errorf("log does not name file:line: %s", logs.String())
	}
	page, _ := leakPage(t, 500, []string{warsaw.Text}, 0, 500)
	sink := &collectSink{}
	if _, err := flow.Run(t.Context(), flow.Plan{
		Sources: []flow.NamedSource{{Name: "test", Source: recordsSource{{ID: "page", Text: page}}}},
		Stages:  []flow.NamedStage{{Name: "decontaminate", Use: "decontaminate", Stage: st, Counters: env.Counters}},
		Sinks:   []flow.NamedSink{{Name: "mem", Sink: sink}},
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := sink.got[0].Meta["leak_of"].([]string); !reflect.DeepEqual(got, []string{"mine/w3"}) {
		t.Errorf("leak_of %v, want mine/w3", got)
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep LeakReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	sl := rep.Parameters.SkippedLines
	if len(sl) != 1 || sl[0].TestSet != "mine" || sl[0].File != "mine.jsonl" || sl[0].Line != 2 || !strings.HasPrefix(sl[0].Error, "not a JSON object") {
		t.Errorf("skipped_lines = %+v", sl)
	}
	if s := rep.TestSets[0]; s.Items != 2 || s.SkippedRecords != 1 || s.ContaminatedItems != 1 {
		t.Errorf("test set: items %d skipped %d contaminated %d; want 2, 1, 1", s.Items, s.SkippedRecords, s.ContaminatedItems)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for name, doc := range map[string][]byte{"report.md": md, "report.html": html} {
		if !bytes.Contains(doc, []byte("mine.jsonl:2</code>")) && !bytes.Contains(doc, []byte("`mine.jsonl:2`")) {
			t.Errorf("%s does not list the skipped line", name)
		}
	}
}
