package pack

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func pairRecord(i int, caption string, tokens []int32) *flow.Record {
	return &flow.Record{ID: fmt.Sprintf("pair-%d", i), Text: caption, Tokens: tokens,
		Fields: map[string]any{ColImage: []byte(fmt.Sprintf("\xff\xd8jpeg-%d", i)), ColWidth: 100 + i, ColHeight: 50 + i}}
}

func TestImageTextPackAndReadBack(t *testing.T) {
	s, counters := newTestStage(t, func(c *Config) { c.Mode = ModeImageText; c.CaptionLen = 6; c.ITM = true; c.Seed = 3 })
	var recs []*flow.Record
	emit := func(r *flow.Record) { recs = append(recs, r) }
	long := []int32{tCLS, firstWord, firstWord + 1, firstWord + 2, firstWord + 3, firstWord + 4, firstWord + 5, tSEP}
	inputs := []*flow.Record{
		pairRecord(0, "a cat", []int32{tCLS, firstWord, tSEP}),
		pairRecord(1, "a long caption", long),
		pairRecord(2, "a dog", []int32{tCLS, firstWord + 9, tSEP}),
		{ID: "no-image", Text: "x", Tokens: []int32{tCLS, tSEP}, Fields: map[string]any{}},
	}
	var reasons []string
	for _, r := range inputs {
		reasons = append(reasons, s.ProcessEmit(r, emit))
	}
	if err := s.Flush(emit); err != nil {
		t.Fatal(err)
	}
	if reasons[3] != "no_image" {
		t.Errorf("record without image: %q", reasons[3])
	}
	// pair-0 (no partner yet), pair-1 + mismatch, pair-2 + mismatch.
	if len(recs) != 5 || counters.Get("itm_no_partner") != 1 || counters.Get("itm_label_0") != 2 {
		t.Fatalf("%d examples, counters %v", len(recs), counters.Snapshot())
	}
	trunc := recs[1].Fields[ColInputIDs].([]int32)
	if len(trunc) != 6 || trunc[5] != tSEP || trunc[4] != firstWord+3 || recs[1].Fields[ColLength] != int32(6) {
		t.Errorf("truncated caption ids %v", trunc)
	}
	if ids := recs[0].Fields[ColInputIDs].([]int32); ids[3] != tPAD || recs[0].Fields[ColLength] != int32(3) {
		t.Errorf("padded caption ids %v", ids)
	}
	neg := recs[2]
	if neg.Fields[ColITMLabel] != int32(0) || neg.Fields[ColDocID] != "pair-1" || neg.Fields[ColCaption] == "a long caption" {
		t.Errorf("mismatched pair: %v", neg.Fields)
	}

	dir := filepath.Join(t.TempDir(), "shards")
	writeAll(t, WriterOptions{Dir: dir, Compression: "zstd"}, recs)
	got := readAll(t, dir, ReaderOptions{})
	if len(got) != 5 {
		t.Fatalf("read %d examples", len(got))
	}
	for i, ex := range got {
		f := recs[i].Fields
		if !bytes.Equal(ex.Image, f[ColImage].([]byte)) || ex.Caption != f[ColCaption] || int32(ex.Width) != f[ColWidth] ||
			int32(ex.ITMLabel) != f[ColITMLabel] || len(ex.InputIDs) != 6 || ex.DocID != f[ColDocID] {
			t.Errorf("example %d read back as %+v", i, ex)
		}
	}
}

func TestImageTextConfigErrors(t *testing.T) {
	for _, mutate := range []func(*Config){
		func(c *Config) { c.ITM = true },
		func(c *Config) { c.Mode = ModeImageText; c.CaptionLen = 1 },
		func(c *Config) { c.Mode = ModeImageText; c.StaticMask = true },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
