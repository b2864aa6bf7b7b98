package dedup

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/corpusflow/corpusflow/flow"
)

// MinHashConfig is the YAML configuration of minhash_dedup.
type MinHashConfig struct {
	NGram     int     `yaml:"ngram" help:"shingle size in tokens (words; one CJK character is one token)"`
	Bands     int     `yaml:"bands" help:"LSH bands"`
	Rows      int     `yaml:"rows" help:"hashes per band; bands×rows hashes in all"`
	Family    string  `yaml:"hash_family" choices:"datatrove,multiply_shift" help:"datatrove: xxhash64 + (a·x+b) mod 2^61−1, signatures equal datatrove's; multiply_shift: faster 32-bit"`
	Seed      uint64  `yaml:"seed" help:"seed of the permutation parameters (datatrove's default is 1)"`
	Verify    bool    `yaml:"verify" help:"keep signatures and require estimated Jaccard ≥ threshold for a band collision to count"`
	Threshold float64 `yaml:"threshold" help:"with verify: the estimated Jaccard a duplicate needs"`
	// ExpectedDocuments presizes the band tables.
	ExpectedDocuments int `yaml:"expected_documents" help:"presize the index for this many documents (0: grow as needed)"`
}

// DefaultMinHashConfig is datatrove's MinhashConfig: 5-grams, 14 bands of 8.
var DefaultMinHashConfig = MinHashConfig{NGram: 5, Bands: 14, Rows: 8, Family: FamilyDatatrove, Seed: 1, Threshold: 0.8}

// Validate checks the configuration.
func (c *MinHashConfig) Validate() error {
	switch {
	case c.NGram < 1:
		return &flow.FieldError{Field: "ngram", Err: fmt.Errorf("must be at least 1, got %d", c.NGram)}
	case c.Bands < 1:
		return &flow.FieldError{Field: "bands", Err: fmt.Errorf("must be at least 1, got %d", c.Bands)}
	case c.Rows < 1 || c.Rows > 64:
		return &flow.FieldError{Field: "rows", Err: fmt.Errorf("must be between 1 and 64, got %d", c.Rows)}
	case c.Family != FamilyDatatrove && c.Family != FamilyMultiplyShift:
		return &flow.FieldError{Field: "hash_family", Err: fmt.Errorf("must be %s or %s, got %q", FamilyDatatrove, FamilyMultiplyShift, c.Family)}
	case c.Family == FamilyDatatrove && c.Seed >= 1<<32:
		return &flow.FieldError{Field: "seed", Err: fmt.Errorf("datatrove seeds are below 2^32")}
	case c.Threshold < 0 || c.Threshold > 1 || math.IsNaN(c.Threshold):
		return &flow.FieldError{Field: "threshold", Err: fmt.Errorf("must be in [0, 1], got %v", c.Threshold)}
	case c.ExpectedDocuments < 0:
		return &flow.FieldError{Field: "expected_documents", Err: fmt.Errorf("must not be negative")}
	}
	return nil
}

func init() {
	flow.RegisterStage("minhash_dedup",
		"drop near-duplicate documents with MinHash LSH (datatrove-compatible signatures, 14 bands × 8 by default); first seen wins, dup_of names it",
		DefaultMinHashConfig,
		func(c *MinHashConfig, env *flow.Env) (flow.Stage, error) {
			d, err := NewMinHashDedup(*c, env.Counters)
			if err != nil || !c.Verify {
				return d, err
			}
			return sequentialMinHash{d}, nil // not split across workers (partition_minhash.go)
		})
}

// MinHashDedup is streaming near-duplicate removal: a document any of whose
// bands equals a band of an earlier kept document is a duplicate of it.
// Duplicates are not indexed (their near-twin already is), so memory grows
// with the kept documents only: bands × 8 bytes / load plus the id.
type MinHashDedup struct {
	cfg      MinHashConfig
	hasher   *MinHasher
	tables   []bandTable
	ids      idArena
	sigs     []uint64 // with Verify: every indexed signature, back to back
	counters *flow.Counters

	simp     simplifier
	sig      []uint64
	bandHash []uint64
	bandBuf  []byte

	// Over Kafka (partition_minhash.go): scratch for the sender's
	// BucketKeys, and the joiner's state.
	scratchPool sync.Pool
	join        joinState
}

// NewMinHashDedup builds the stage; counters may be nil.
func NewMinHashDedup(cfg MinHashConfig, counters *flow.Counters) (*MinHashDedup, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, err := NewMinHasher(cfg.Family, cfg.Bands*cfg.Rows, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if counters == nil {
		counters = &flow.Counters{}
	}
	d := &MinHashDedup{
		cfg: cfg, hasher: h, counters: counters,
		tables:   make([]bandTable, cfg.Bands),
		sig:      make([]uint64, cfg.Bands*cfg.Rows),
		bandHash: make([]uint64, cfg.Bands),
		bandBuf:  make([]byte, 8*cfg.Rows),
	}
	for i := range d.tables {
		d.tables[i] = newBandTable(cfg.ExpectedDocuments)
	}
	return d, nil
}

// Sequential: first seen in input order wins.
func (d *MinHashDedup) Sequential() {}

// Process rejects a near-duplicate of an earlier document as
// "near_duplicate" with Meta["dup_of"] = the earlier document's id.
func (d *MinHashDedup) Process(r *flow.Record) string {
	if !d.hasher.signature(&d.simp, r.Text, d.cfg.NGram, d.sig) {
		d.counters.Add("no_tokens", 1)
		return ""
	}
	bandHashes(d.sig, d.cfg.Rows, d.bandBuf, d.bandHash)
	if ord, ok := d.findDuplicate(); ok {
		r.SetMeta("dup_of", d.ids.get(ord))
		return "near_duplicate"
	}
	if uint64(d.ids.len()) >= math.MaxUint32-1 {
		d.counters.Add("index_full", 1)
		return ""
	}
	ord := d.ids.add(r.ID)
	for b, h := range d.bandHash {
		d.tables[b].insert(h, ord)
	}
	if d.cfg.Verify {
		d.sigs = append(d.sigs, d.sig...)
	}
	return ""
}

// findDuplicate returns the earliest-band match; with Verify, the first
// candidate whose estimated Jaccard reaches the threshold.
func (d *MinHashDedup) findDuplicate() (uint32, bool) {
	k := len(d.sig)
	for b, h := range d.bandHash {
		var found uint32
		ok := false
		d.tables[b].each(h, func(ord uint32) bool {
			if d.cfg.Verify {
				if EstimateJaccard(d.sig, d.sigs[int(ord)*k:int(ord+1)*k]) < d.cfg.Threshold {
					return true
				}
			}
			found, ok = ord, true
			return false
		})
		if ok {
			return found, true
		}
	}
	return 0, false
}

// IndexBytes is the memory of the LSH index: band tables, ids and (with
// Verify) signatures.
func (d *MinHashDedup) IndexBytes() (bands, ids, sigs int) {
	for i := range d.tables {
		bands += d.tables[i].bytes()
	}
	return bands, d.ids.size(), 8 * cap(d.sigs)
}

// Indexed is the number of documents in the index.
func (d *MinHashDedup) Indexed() int { return d.ids.len() }

// Finish records the index size in the stage's counts.
func (d *MinHashDedup) Finish(context.Context) error {
	bands, ids, sigs := d.IndexBytes()
	d.counters.Add("index_bytes", int64(bands+ids+sigs+d.join.bytes()))
	d.counters.Add("index_documents", int64(d.ids.len()))
	return nil
}
