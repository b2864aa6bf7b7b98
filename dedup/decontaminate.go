package dedup

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/corpusflow/corpusflow/flow"
)

// DecontaminateConfig is the YAML configuration of decontaminate.
type DecontaminateConfig struct {
	TestSets         []TestSetSpec `yaml:"test_sets" required:"true" help:"the test sets to check against"`
	Action           string        `yaml:"action" choices:"drop,flag,cut" help:"drop the document, flag it (keep, metadata leak_of) or cut the matched text out (GPT-3)"`
	NGram            int           `yaml:"ngram" help:"n-gram length in tokens (0: per test set, 5th percentile of item length clamped to [8, 13], as GPT-3)"`
	MinContainment   float64       `yaml:"min_containment" help:"fraction of an item's n-grams a document must contain"`
	MinItemTokens    int           `yaml:"min_item_tokens" help:"items shorter than this many tokens are reported unchecked"`
	MinHash          bool          `yaml:"minhash" help:"also probe documents with MinHash windows for edited copies"`
	MinHashThreshold float64       `yaml:"minhash_threshold" help:"estimated containment of an item's word pairs in a window to count as a match"`
	MinHashMinTokens int           `yaml:"minhash_min_tokens" help:"items shorter than this are matched by n-grams only"`
	MinHashBands     int           `yaml:"minhash_bands" help:"LSH bands of the item index"`
	MinHashRows      int           `yaml:"minhash_rows" help:"hashes per band"`
	CutWindow        int           `yaml:"cut_window" help:"cut: characters removed on each side of a match"`
	CutMaxPieces     int           `yaml:"cut_max_pieces" help:"cut: drop a document left in more pieces than this after the cut (0: no limit)"`
	CutMinPiece      int           `yaml:"cut_min_piece" help:"cut: pieces shorter than this many characters are removed too; a document left with none is dropped"`
	Report           string        `yaml:"report" path:"output" help:"directory of the audit report (report.json, report.md, report.html)"`
	MaxExamples      int           `yaml:"max_examples_per_item" help:"training records shown per contaminated item (all are counted)"`
}

// DefaultDecontaminateConfig holds the defaults.
var DefaultDecontaminateConfig = DecontaminateConfig{
	Action:           "drop",
	MinContainment:   DefaultLeakParams.MinContainment,
	MinItemTokens:    DefaultLeakParams.MinItemTokens,
	MinHash:          true,
	MinHashThreshold: DefaultLeakParams.MinHashThreshold,
	MinHashMinTokens: DefaultLeakParams.MinHashMinTokens,
	MinHashBands:     DefaultLeakParams.MinHashBands,
	MinHashRows:      DefaultLeakParams.MinHashRows,
	CutWindow:        200, CutMaxPieces: 10, CutMinPiece: 200,
	Report:      "audit",
	MaxExamples: 20,
}

// Validate checks the configuration.
func (c *DecontaminateConfig) Validate() error {
	fe := func(field, format string, args ...any) error {
		return &flow.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	if len(c.TestSets) == 0 {
		return fe("test_sets", "at least one test set is needed")
	}
	names := map[string]bool{}
	for i, ts := range c.TestSets {
		p := fmt.Sprintf("test_sets.%d.", i)
		switch {
		case ts.Name == "":
			return fe(p+"name", "is required")
		case names[ts.Name]:
			return fe(p+"name", "%q is used twice", ts.Name)
		case ts.Path == "":
			return fe(p+"path", "is required")
		}
		names[ts.Name] = true
		switch ts.Type {
		case "squad", "jsonl", "tsv", "text":
		default:
			return fe(p+"type", "must be one of squad, jsonl, tsv, text; got %q", ts.Type)
		}
		if ts.Split != "" && ts.Split != "line" && ts.Split != "block" {
			return fe(p+"split", "must be line or block, got %q", ts.Split)
		}
	}
	between := func(v float64) bool { return v >= 0 && v <= 1 && !math.IsNaN(v) }
	switch {
	case c.Action != "drop" && c.Action != "flag" && c.Action != "cut":
		return fe("action", "must be drop, flag or cut; got %q", c.Action)
	case c.NGram < 0:
		return fe("ngram", "must not be negative")
	case !between(c.MinContainment) || c.MinContainment == 0:
		return fe("min_containment", "must be in (0, 1], got %v", c.MinContainment)
	case !between(c.MinHashThreshold) || c.MinHashThreshold == 0:
		return fe("minhash_threshold", "must be in (0, 1], got %v", c.MinHashThreshold)
	case c.MinHash && (c.MinHashBands < 1 || c.MinHashRows < 1 || c.MinHashRows > 64):
		return fe("minhash_rows", "bands must be ≥ 1 and rows in [1, 64]")
	case c.CutWindow < 0 || c.CutMaxPieces < 0 || c.CutMinPiece < 0:
		return fe("cut_window", "cut settings must not be negative")
	case c.MaxExamples < 1:
		return fe("max_examples_per_item", "must be at least 1")
	}
	return nil
}

func init() {
	flow.RegisterStage("decontaminate",
		"find downstream test items (SQuAD, GLUE, ...) in training documents by n-gram containment and MinHash windows; drop, flag or cut them and write the leakage audit report",
		DefaultDecontaminateConfig,
		func(c *DecontaminateConfig, env *flow.Env) (flow.Stage, error) {
			return NewDecontaminator(*c, env)
		})
}

// Decontaminator is the decontaminate stage. Matching a record depends on
// the record alone (the index is read-only), so it runs in parallel; what it
// finds is collected under a lock and sorted by input position before the
// report is written, so the report does not depend on scheduling.
type Decontaminator struct {
	cfg       DecontaminateConfig
	index     *LeakIndex
	env       flow.Env
	reportDir string

	records, bytes, contaminated, cut, dropped atomic.Int64

	mu       sync.Mutex
	maxScore []float64
	matches  [][]matchRecord // per item
	counts   []int           // per item: all matches, also those not kept

	// parts, over Kafka, holds each record's findings until the transport
	// takes them to the worker that writes the report (partition_report.go).
	parts *reportParts
}

// matchRecord is one (item, training record) match as the report shows it.
type matchRecord struct {
	seq        uint64
	TrainID    string  `json:"train_id"`
	TrainURL   string  `json:"train_url,omitempty"`
	Source     string  `json:"train_source,omitempty"`
	Method     string  `json:"method"`
	Score      float64 `json:"score"`
	Excerpt    string  `json:"train_excerpt"`
	Spans      []Span  `json:"train_spans"`
	ItemSpans  []Span  `json:"test_spans"`
	ExcerptPos int     `json:"train_excerpt_offset"`
}

// NewDecontaminator loads the test sets and builds the index.
func NewDecontaminator(cfg DecontaminateConfig, env *flow.Env) (*Decontaminator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var e flow.Env
	if env != nil {
		e = *env
	}
	if e.Counters == nil {
		e.Counters = &flow.Counters{}
	}
	specs := append([]TestSetSpec(nil), cfg.TestSets...)
	for i := range specs {
		if !filepath.IsAbs(specs[i].Path) && e.BaseDir != "" {
			specs[i].Path = filepath.Join(e.BaseDir, specs[i].Path)
		}
	}
	p := LeakParams{
		NGram: cfg.NGram, MinContainment: cfg.MinContainment, MinItemTokens: cfg.MinItemTokens,
		MinHash: cfg.MinHash, MinHashThreshold: cfg.MinHashThreshold, MinHashMinTokens: cfg.MinHashMinTokens,
		MinHashBands: cfg.MinHashBands, MinHashRows: cfg.MinHashRows, Seed: 1,
	}
	ix, err := BuildLeakIndex(specs, p)
	if err != nil {
		return nil, &flow.FieldError{Field: "test_sets", Err: err}
	}
	if e.Logger != nil {
		for _, set := range ix.Sets {
			for _, b := range set.BadLines {
				e.Logger.Warn(fmt.Sprintf("test set %s: %s:%d: line skipped: %s", set.Spec.Name, set.Spec.Path, b.Line, b.Err))
			}
		}
	}
	dir := cfg.Report
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(e.OutputDir, dir)
	}
	n := ix.ItemCount()
	return &Decontaminator{
		cfg: cfg, index: ix, env: e, reportDir: dir,
		maxScore: make([]float64, n), matches: make([][]matchRecord, n), counts: make([]int, n),
	}, nil
}

// Index is the leakage index (read-only).
func (d *Decontaminator) Index() *LeakIndex { return d.index }

// Process checks one record and applies the action.
func (d *Decontaminator) Process(r *flow.Record) string {
	reject, c := d.check(r)
	if d.parts != nil {
		d.parts.keep(r, c) // over Kafka: the report is merged elsewhere (partition_report.go)
	} else {
		d.add(c)
	}
	return reject
}

// leakContribution is what one record adds to the report.
type leakContribution struct {
	bytes                      int64
	near                       []itemScore // items the record came near, best score per window
	hits                       []itemMatch
	contaminated, cut, dropped bool
}

type itemScore struct {
	item  int
	score float64
}

type itemMatch struct {
	item  int
	match matchRecord
}

// check matches one record against the index and applies the action to
// it; what it found is returned for the report.
func (d *Decontaminator) check(r *flow.Record) (string, *leakContribution) {
	c := &leakContribution{bytes: int64(len(r.Text))}
	hits, toks := d.index.Match(r.Text, func(item int, score float64) {
		c.near = append(c.near, itemScore{item, score})
	})
	if len(hits) == 0 {
		return "", c
	}
	c.contaminated = true
	d.env.Counters.Add("contaminated_records", 1)
	var leakOf []string
	var docSpans []Span
	var tk leakTokenizer
	for _, h := range hits {
		it := d.index.items[h.Item]
		set := d.index.Sets[it.set]
		item := set.Items[it.item]
		leakOf = append(leakOf, set.Spec.Name+"/"+item.ID)
		n := it.n
		region := toks
		if h.Method == MethodMinHash {
			n = 2
			region = toks[h.From:min(h.To, len(toks))]
		}
		itemSpans, spans := overlapSpans(tk.tokenize(item.Text), region, n)
		docSpans = append(docSpans, spansToCut(h.Method, spans, region)...)
		ex, exSpans, pos := excerpt(r.Text, spans, 300, 8000)
		c.hits = append(c.hits, itemMatch{h.Item, matchRecord{
			seq: r.Seq(), TrainID: r.ID, TrainURL: r.URL, Source: r.Source,
			Method: h.Method, Score: round4(h.Score), Excerpt: ex, Spans: exSpans, ItemSpans: itemSpans, ExcerptPos: pos,
		}})
	}
	sort.Strings(leakOf)
	r.SetMeta("leak_of", leakOf)
	switch d.cfg.Action {
	case "flag":
		return "", c
	case "cut":
		pieces, dropReason := cutSpans(r.Text, mergeSpans(docSpans), d.cfg.CutWindow, d.cfg.CutMaxPieces, d.cfg.CutMinPiece)
		if dropReason != "" {
			c.dropped = true
			return dropReason, c
		}
		c.cut = true
		r.Text = strings.Join(pieces, "\n")
		return "", c
	}
	c.dropped = true
	return "test_set_leak", c
}

// spansToCut is what the cut action removes for one match. For a MinHash
// match, whose spans are word pairs the window shares with the item, a lone
// pair ("of the") shared with the text around the passage is no evidence,
// and cutting it would take 400 more characters of clean text: only runs
// of minCutRun tokens count, unless there are none (then all are cut
// rather than keep a leak that was found).
func spansToCut(method string, spans []Span, region []leakToken) []Span {
	if method == MethodMinHash {
		if runs := longRuns(spans, region, minCutRun); len(runs) > 0 {
			return runs
		}
	}
	return spans
}

// add puts one record's findings into the report.
func (d *Decontaminator) add(c *leakContribution) {
	d.records.Add(1)
	d.bytes.Add(c.bytes)
	for _, v := range []struct {
		flag bool
		n    *atomic.Int64
	}{{c.contaminated, &d.contaminated}, {c.cut, &d.cut}, {c.dropped, &d.dropped}} {
		if v.flag {
			v.n.Add(1)
		}
	}
	if len(c.near) == 0 && len(c.hits) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range c.near {
		d.maxScore[n.item] = max(d.maxScore[n.item], n.score)
	}
	for _, h := range c.hits {
		d.counts[h.item]++
		d.matches[h.item] = keepEarliest(append(d.matches[h.item], h.match), d.cfg.MaxExamples)
	}
}

// keepEarliest keeps the max matches with the smallest input position.
func keepEarliest(m []matchRecord, max int) []matchRecord {
	sort.Slice(m, func(i, j int) bool { return m[i].seq < m[j].seq })
	if len(m) > max {
		m = m[:max]
	}
	return m
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
