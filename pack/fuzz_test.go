package pack

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

func FuzzParseManifest(f *testing.F) {
	dir := f.TempDir()
	writeAll(f, WriterOptions{Dir: dir, MaxRows: 3}, testRecords(testLayout(2), 7))
	good, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"format":"arrow-file","compression":"none","rows":1,"bytes":1,"shards":[{"file":"../x.arrow","rows":1,"bytes":1,"xxhash64":"0000000000000000"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// Whatever parses must be safe to act on: plain shard names, counts
		// that add up.
		var rows int64
		for _, s := range m.Shards {
			if !shardNamePattern.MatchString(s.File) || s.Rows <= 0 {
				t.Fatalf("accepted shard %+v", s)
			}
			rows += s.Rows
		}
		if rows != m.Rows {
			t.Fatalf("accepted rows %d != %d", m.Rows, rows)
		}
	})
}

// FuzzOpenShard feeds damaged shard bytes to the reader's open path with
// verification on: nothing that differs from what the manifest promises may
// reach the Arrow decoder, and the result is rows or an error, never a panic.
// The decoder itself is fuzzed on the unverified path by
// FuzzInspectShardFile.
func FuzzOpenShard(f *testing.F) {
	type seed struct {
		format string
		info   ShardInfo
	}
	var seeds []seed
	for _, format := range []string{FormatFile, FormatStream} {
		for _, codec := range []string{"none", "zstd", "lz4"} {
			dir := f.TempDir()
			m := writeAll(f, WriterOptions{Dir: dir, Format: format, Compression: codec, BatchRows: 2}, testRecords(testLayout(3), 5))
			data, err := os.ReadFile(filepath.Join(dir, ShardName(0)))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, uint8(len(seeds)))
			seeds = append(seeds, seed{format, m.Shards[0]})
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		s := seeds[int(which)%len(seeds)]
		c, err := openVerified(data, s.info, s.format, "fuzz.arrow", true)
		if err != nil {
			return
		}
		defer c.close()
		for i := 0; ; i++ {
			_, ok, err := c.next()
			if err != nil || !ok {
				if int64(i) != s.info.Rows && err == nil {
					t.Fatalf("verified shard gave %d rows, manifest says %d", i, s.info.Rows)
				}
				return
			}
		}
	})
}

// FuzzPackStage packs arbitrary documents in every mode: every example must
// fit seq_len and keep its columns consistent, whatever the token stream.
func FuzzPackStage(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 105, 6, 7}, uint8(0), uint8(3))
	f.Add([]byte{105, 105, 105}, uint8(1), uint8(1))
	f.Add([]byte{200}, uint8(2), uint8(40))
	f.Add(make([]byte, 300), uint8(5), uint8(7))
	vocab := testVocab(f)
	f.Fuzz(func(t *testing.T, data []byte, modeSel, split uint8) {
		c := DefaultConfig()
		c.Vocab = vocab
		c.SeqLen = 16
		c.Mode = []string{ModeMLM, ModeNSP, ModeSpanCorruption}[int(modeSel)%3]
		if modeSel&4 != 0 {
			c.DocBoundary = BoundaryStrict
		}
		if modeSel&8 != 0 {
			c.Pad = false
		}
		if c.Mode != ModeSpanCorruption && modeSel&16 != 0 {
			c.StaticMask = true
		}
		s, err := New(&c, &flow.Env{})
		if err != nil {
			t.Fatal(err)
		}
		// Bytes become token ids (105 is "."); split cuts them into documents.
		var docs []doc
		step := int(split%50) + 1
		for i := 0; i < len(data); i += step {
			var toks []int32
			for _, b := range data[i:min(i+step, len(data))] {
				toks = append(toks, int32(b)+5)
			}
			docs = append(docs, doc{fmt.Sprint(len(docs)), toks})
		}
		for _, r := range packDocs(t, s, docs) {
			ids := r.Fields[ColInputIDs].([]int32)
			n := int(r.Fields[ColLength].(int32))
			if len(ids) > c.SeqLen || n > len(ids) || n < 1 || (c.Pad && len(ids) != c.SeqLen) {
				t.Fatalf("%s: %d ids, length %d", c.Mode, len(ids), n)
			}
			if tt, ok := r.Fields[ColTokenTypeIDs].([]int32); ok && len(tt) != len(ids) {
				t.Fatalf("token_type_ids %d vs input_ids %d", len(tt), len(ids))
			}
			if l, ok := r.Fields[ColLabels].([]int32); ok && len(l) != len(ids) {
				t.Fatalf("labels %d vs input_ids %d", len(l), len(ids))
			}
		}
	})
}
