package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/corpusflow/corpusflow/tokenize"
)

// InspectOptions configure Inspect.
type InspectOptions struct {
	// Vocab decodes examples back to text; nil prints token ids. Its
	// checksum must match the shards'.
	Vocab tokenize.Tokenizer
	// Examples is how many examples to print (decoded when Vocab is set).
	Examples int
	// MaxRows caps the rows read for the statistics; 0 reads every row
	// (which also verifies every shard's checksum).
	MaxRows int
}

// Inspect prints what a shard directory (or a single shard file) holds:
// manifest, Arrow schema and metadata, row, shard and token statistics, and
// the first examples.
func Inspect(w io.Writer, path string, opts InspectOptions) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	dir := path
	var only *ShardInfo
	if !st.IsDir() {
		// A shard file alone: describe it as a one-shard directory.
		dir = filepath.Dir(path)
		// No checksum: unless a manifest beside it lists it, there is
		// nothing to verify it against.
		info := ShardInfo{File: filepath.Base(path), Bytes: st.Size()}
		only = &info
	}
	var m *Manifest
	if only == nil {
		if m, err = ReadManifest(dir); err != nil {
			return err
		}
	} else if m, err = ReadManifest(dir); err != nil || !listed(m, only.File) {
		m = &Manifest{Version: ManifestVersion, Format: sniffFormat(path), Compression: "?", Shards: []ShardInfo{*only}, Complete: true}
	} else {
		m = &Manifest{Version: m.Version, Format: m.Format, Compression: m.Compression, Schema: m.Schema, Shards: []ShardInfo{shardEntry(m, only.File)}, Complete: true}
	}

	fmt.Fprintf(w, "%s\n", path)
	fmt.Fprintf(w, "  format %s, compression %s, %d shards, %d rows, %s", m.Format, m.Compression, len(m.Shards), sumRows(m), humanBytes(sumBytes(m)))
	if m.Complete {
		fmt.Fprintf(w, ", complete\n")
	} else {
		fmt.Fprintf(w, ", INCOMPLETE (still being written, or interrupted: run --resume finishes it)\n")
	}
	if len(m.Shards) == 0 {
		return nil
	}

	s := newInspectStats()
	var schema *arrow.Schema
	var first []Example
	err = eachRow(dir, m, opts.MaxRows, func(sc *arrow.Schema, ex Example) {
		if schema == nil {
			schema = sc
		}
		s.add(ex)
		if len(first) < opts.Examples {
			first = append(first, ex)
		}
	})
	if err != nil {
		return err
	}
	if schema == nil {
		// Only a shard read without a manifest (nothing to check its rows
		// against) can get here.
		return fmt.Errorf("%s: no rows could be read: not a corpusflow shard, or a damaged one", path)
	}
	md := schemaMetadata(schema)
	if opts.Vocab != nil {
		if want := md[MetaVocabSHA256]; want != "" && want != opts.Vocab.VocabSHA256() {
			return fmt.Errorf("the shards were packed with vocabulary %s (%s); the one given has checksum %s", want, md[MetaVocabFile], opts.Vocab.VocabSHA256())
		}
	}
	fmt.Fprintf(w, "\nschema\n")
	for _, f := range schema.Fields() {
		fmt.Fprintf(w, "  %-20s %s\n", f.Name, f.Type)
	}
	fmt.Fprintf(w, "\nmetadata\n")
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := md[k]
		if k == MetaHuggingFace && len(v) > 120 {
			v = v[:117] + "..."
		}
		fmt.Fprintf(w, "  %-28s %s\n", k, v)
	}
	s.print(w, opts.MaxRows > 0)
	for _, ex := range first {
		printExample(w, ex, opts.Vocab)
	}
	return nil
}

func listed(m *Manifest, file string) bool {
	for _, s := range m.Shards {
		if s.File == file {
			return true
		}
	}
	return false
}

func shardEntry(m *Manifest, file string) ShardInfo {
	for _, s := range m.Shards {
		if s.File == file {
			return s
		}
	}
	return ShardInfo{}
}

// sniffFormat tells an IPC file (it starts with the magic ARROW1) from a
// stream.
func sniffFormat(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return FormatFile
	}
	defer f.Close()
	magic := make([]byte, 6)
	if _, err := io.ReadFull(f, magic); err == nil && string(magic) == "ARROW1" {
		return FormatFile
	}
	return FormatStream
}

func sumRows(m *Manifest) int64 {
	var n int64
	for _, s := range m.Shards {
		n += s.Rows
	}
	return n
}

func sumBytes(m *Manifest) int64 {
	var n int64
	for _, s := range m.Shards {
		n += s.Bytes
	}
	return n
}

// errEnough stops eachRow once MaxRows rows were read.
var errEnough = errors.New("enough rows")

// eachRow reads the listed shards in manifest order, verifying the ones the
// manifest has checksums for (a lone shard file has none).
func eachRow(dir string, m *Manifest, maxRows int, fn func(*arrow.Schema, Example)) error {
	rows := 0
	for _, info := range m.Shards {
		path := filepath.Join(dir, info.File)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cur, err := openVerified(data, info, m.Format, path, info.XXHash64 != "")
		if err != nil {
			return err
		}
		for {
			ex, ok, err := cur.next()
			if err != nil {
				cur.close()
				return err
			}
			if !ok {
				break
			}
			fn(cur.schema, ex)
			if rows++; maxRows > 0 && rows >= maxRows {
				cur.close()
				return nil
			}
		}
		cur.close()
	}
	return nil
}

func schemaMetadata(s *arrow.Schema) map[string]string {
	md := map[string]string{}
	if s == nil {
		return md
	}
	m := s.Metadata()
	for i, k := range m.Keys() {
		md[k] = m.Values()[i]
	}
	return md
}

// inspectStats are token statistics over the rows read.
type inspectStats struct {
	rows                 int64
	tokens, slots        int64 // non-padding tokens, all positions
	minLen, maxLen       int
	masked               int64
	nspRandom, nspRows   int64
	targets              int64
	hasLabels, hasTarget bool
	docs                 map[string]bool
}

func newInspectStats() *inspectStats {
	return &inspectStats{minLen: -1, docs: map[string]bool{}}
}

func (s *inspectStats) add(ex Example) {
	s.rows++
	length := ex.Length
	if length == 0 && len(ex.InputIDs) > 0 {
		length = len(ex.InputIDs) // documents have no length column
	}
	s.tokens += int64(length)
	s.slots += int64(len(ex.InputIDs))
	if s.minLen < 0 || length < s.minLen {
		s.minLen = length
	}
	s.maxLen = max(s.maxLen, length)
	if ex.Labels != nil {
		s.hasLabels = true
		for _, l := range ex.Labels {
			if l != IgnoreLabel {
				s.masked++
			}
		}
	}
	if ex.TokenTypeIDs != nil {
		s.nspRows++
		s.nspRandom += int64(ex.NextSentenceLabel)
	}
	if ex.Targets != nil {
		s.hasTarget = true
		s.targets += int64(ex.TargetsLength)
	}
	if ex.DocID != "" && len(s.docs) < 1_000_000 {
		s.docs[ex.DocID] = true
	}
}

func (s *inspectStats) print(w io.Writer, sampled bool) {
	label := "statistics"
	if sampled {
		label += fmt.Sprintf(" (first %d rows)", s.rows)
	}
	fmt.Fprintf(w, "\n%s\n", label)
	fmt.Fprintf(w, "  rows                 %d\n", s.rows)
	if s.rows == 0 {
		return
	}
	fmt.Fprintf(w, "  tokens               %d (mean %.1f, min %d, max %d per row)\n", s.tokens, float64(s.tokens)/float64(s.rows), s.minLen, s.maxLen)
	if s.slots > 0 {
		fmt.Fprintf(w, "  padding              %.2f%% of %d positions\n", 100*float64(s.slots-s.tokens)/float64(s.slots), s.slots)
	}
	if len(s.docs) > 0 {
		fmt.Fprintf(w, "  source documents     %d (first document of each example)\n", len(s.docs))
	}
	if s.hasLabels {
		fmt.Fprintf(w, "  masked (labels)      %d (%.2f%% of tokens)\n", s.masked, 100*float64(s.masked)/float64(max(s.tokens, 1)))
	}
	if s.nspRows > 0 {
		fmt.Fprintf(w, "  random next segment  %d of %d pairs (%.1f%%)\n", s.nspRandom, s.nspRows, 100*float64(s.nspRandom)/float64(s.nspRows))
	}
	if s.hasTarget {
		fmt.Fprintf(w, "  target tokens        %d (mean %.1f per row)\n", s.targets, float64(s.targets)/float64(s.rows))
	}
}

func printExample(w io.Writer, ex Example, vocab tokenize.Tokenizer) {
	fmt.Fprintf(w, "\nexample %s (document %s; %s row %d)\n", ex.ID, ex.DocID, ex.Shard, ex.Position.Row)
	length := ex.Length
	if length == 0 {
		length = len(ex.InputIDs)
	}
	ids := ex.InputIDs[:clampLen(length, len(ex.InputIDs))]
	fmt.Fprintf(w, "  input_ids  %s\n", render(ids, vocab))
	if ex.TokenTypeIDs != nil {
		fmt.Fprintf(w, "  next_sentence_label %d (%s)\n", ex.NextSentenceLabel, map[int]string{0: "B follows A", 1: "B is random"}[ex.NextSentenceLabel])
	}
	if ex.Labels != nil {
		orig := append([]int32(nil), ids...)
		for i := range orig {
			if i < len(ex.Labels) && ex.Labels[i] != IgnoreLabel {
				orig[i] = ex.Labels[i]
			}
		}
		fmt.Fprintf(w, "  unmasked   %s\n", render(orig, vocab))
	}
	if ex.Targets != nil {
		fmt.Fprintf(w, "  targets    %s\n", render(ex.Targets[:clampLen(ex.TargetsLength, len(ex.Targets))], vocab))
	}
}

// clampLen is a length column's value cut to [0, n]: a shard read without
// a manifest may carry any number there.
func clampLen(length, n int) int { return max(0, min(length, n)) }

// render decodes ids with the vocabulary, or lists them without one.
func render(ids []int32, vocab tokenize.Tokenizer) string {
	if vocab == nil {
		data, _ := json.Marshal(ids)
		return string(data)
	}
	return strings.TrimSpace(vocab.Decode(ids))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
