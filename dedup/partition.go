package dedup

import (
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/corpusflow/corpusflow/flow"
)

// Distributed exact dedup.
//
// When a pipeline runs over Kafka, the worker before exact_dedup routes each
// document by PartitionKey: the same hash the stage puts in its set. Two
// documents can only be duplicates when their keys are equal, so each
// exact_dedup worker owns the set for its slice of the keys and needs no
// other worker's state; memory and work divide by the number of workers.
// Each worker still sees its documents in input order (flow/kafka restores
// it), so "first seen wins" picks the same document as one process does and
// the distributed run keeps exactly the same documents.

var _ flow.KeyedProcessor = (*ExactDedup)(nil)

// PartitionKey is the document's dedup key (0 for a URL key when the record
// has no usable URL: those are all kept, wherever they go). A URL is
// normalized by the configured url_rule, as Process does: two URLs that
// the stage calls duplicates must reach the same worker. Safe for
// concurrent use: each call borrows its own normalizer.
func (d *ExactDedup) PartitionKey(r *flow.Record) uint64 {
	if d.cfg.Key == "url" {
		u, ok := d.normalizeURL(r.URL)
		if !ok {
			return 0
		}
		return xxhash.Sum64String(u)
	}
	k := d.keyers().Get().(*textKeyer)
	defer d.keyers().Put(k)
	return k.key(r.Text)
}

var keyerPools sync.Map // TextKeyOptions -> *sync.Pool

func (d *ExactDedup) keyers() *sync.Pool {
	opts := TextKeyOptions{StripPunctuation: d.cfg.StripPunctuation, DigitsToZero: d.cfg.DigitsToZero}
	if p, ok := keyerPools.Load(opts); ok {
		return p.(*sync.Pool)
	}
	p, _ := keyerPools.LoadOrStore(opts, &sync.Pool{New: func() any { return newTextKeyer(opts) }})
	return p.(*sync.Pool)
}

// ProcessKeyed is Process with the key already computed by PartitionKey (the
// worker before this one computed it to route the record), so a distributed
// run normalizes each text once, not twice.
func (d *ExactDedup) ProcessKeyed(r *flow.Record, key uint64) string {
	if d.cfg.Key == "url" {
		if _, ok := d.normalizeURL(r.URL); !ok {
			d.counters.Add("no_url", 1)
			return ""
		}
	}
	if d.seen.Add(key) {
		return ""
	}
	if d.cfg.Key == "url" {
		return "duplicate_url"
	}
	return "duplicate_text"
}
