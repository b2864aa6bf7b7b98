package dedup

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/cespare/xxhash/v2"

	"github.com/corpusflow/corpusflow/flow"
)

// Distributed MinHash dedup (flow.BucketPartitioner).
//
// In one process, Process computes a document's signature, looks each band's
// hash up in that band's table of kept documents, rejects the document as a
// near-duplicate of the first match (lowest band first), and otherwise adds
// it to every band's table. Duplicates are not indexed.
//
// Across workers the same decision is split three ways:
//
//  1. The sender (the worker before minhash_dedup) computes the signature and
//     the band hashes (BucketKeys): that is nearly all of the stage's CPU,
//     and it runs on every worker of the step before, in parallel. It sends
//     one small probe (input position, band, band hash) to the owner of each
//     bucket, and the document itself to the joiner.
//  2. An owner (one per partition of the stage's topic) holds the buckets
//     whose hash routes to it, for every band. It sees its probes in input
//     order and answers each with the input positions of the documents that
//     reached the bucket before — kept or not, since it cannot know — up to
//     bucketCapacity of them (Probe).
//  3. The joiner (one active worker) gets each document with all its
//     answers, in input order, and decides exactly as Process: it knows
//     which earlier documents it kept, so the first kept document among a
//     band's answers is that band's match; it keeps the ids of the kept
//     documents for dup_of (JoinBuckets).
//
// Why the decision is the same as one process's: a bucket never holds more
// than one kept document (a later document in the same bucket is a
// duplicate of it and is not indexed), so "the bucket has a kept earlier
// document" is "one of the earlier documents in it was kept", and the first
// kept one in input order is the one Process finds. When an owner's bucket
// is full (bucketCapacity earlier documents, none of them kept) the kept
// document, if any, came later than those: the joiner remembers, for such
// buckets only, which document it kept there (overflow), and looks it up.
//
// What is guaranteed: the distributed run keeps and rejects exactly the
// documents one process does, with the same dup_of, whatever the number of
// workers and partitions. What is not: the owners' tables store every
// document's band hashes (not only kept ones), so their memory grows with
// the input, split over the partitions; the joiner holds the ids of the kept
// documents and one bit of work per input document. Two tiny differences
// remain possible: one process matches band hashes by a 32-bit fingerprint
// within a short probe run (a false match is about 2^-32 per lookup) and the
// owners do the same on other tables, so in the astronomically rare case of
// a fingerprint collision they may disagree; and with `verify: true` the
// stage is not split at all (verification needs every candidate's
// signature), it runs on one worker as an ordinary sequential stage.

var _ flow.BucketPartitioner = (*MinHashDedup)(nil)

// bucketCapacity is how many documents an owner records per bucket. Most
// buckets hold one document; a bucket past capacity costs the joiner one
// overflow entry when it keeps a document there.
const bucketCapacity = 4

type minhashScratch struct {
	simp     simplifier
	sig      []uint64
	bandHash []uint64
	bandBuf  []byte
}

func (d *MinHashDedup) scratch() *minhashScratch {
	if s, ok := d.scratchPool.Get().(*minhashScratch); ok {
		return s
	}
	return &minhashScratch{
		sig:      make([]uint64, d.cfg.Bands*d.cfg.Rows),
		bandHash: make([]uint64, d.cfg.Bands),
		bandBuf:  make([]byte, 8*d.cfg.Rows),
	}
}

// BucketKeys computes r's signature and returns its band hashes, one bucket
// per band; none for a text without tokens. Safe for concurrent use.
func (d *MinHashDedup) BucketKeys(r *flow.Record, dst []flow.BucketKey) []flow.BucketKey {
	s := d.scratch()
	defer d.scratchPool.Put(s)
	if !d.hasher.signature(&s.simp, r.Text, d.cfg.NGram, s.sig) {
		return dst
	}
	bandHashes(s.sig, d.cfg.Rows, s.bandBuf, s.bandHash)
	for b, h := range s.bandHash {
		dst = append(dst, flow.BucketKey{Band: b, Key: h})
	}
	return dst
}

// bandHashes hashes each band's rows of sig into out.
func bandHashes(sig []uint64, rows int, buf []byte, out []uint64) {
	for b := range out {
		for i, v := range sig[b*rows : (b+1)*rows] {
			binary.LittleEndian.PutUint64(buf[8*i:], v)
		}
		out[b] = xxhash.Sum64(buf)
	}
}

// NewBucketIndex is one owner's tables: per band, bucket hash → the first
// bucketCapacity documents (their input positions) that had it.
func (d *MinHashDedup) NewBucketIndex() flow.BucketIndex {
	return newBucketIndex(d.cfg.Bands, bucketCapacity, d.cfg.ExpectedDocuments)
}

type bucketIndex struct {
	tables   []bandTable
	seqs     []uint64 // ordinal → input position
	capacity int
}

func newBucketIndex(bands, capacity, expected int) *bucketIndex {
	x := &bucketIndex{tables: make([]bandTable, bands), capacity: capacity}
	for i := range x.tables {
		x.tables[i] = newBandTable(expected)
	}
	return x
}

func (x *bucketIndex) Probe(k flow.BucketKey, seq uint64) (flow.BucketAnswer, error) {
	if k.Band < 0 || k.Band >= len(x.tables) {
		return flow.BucketAnswer{}, fmt.Errorf("minhash_dedup: band %d of a probe is outside the configured %d bands (workers with different configurations?)", k.Band, len(x.tables))
	}
	a := flow.BucketAnswer{BucketKey: k}
	x.tables[k.Band].each(k.Key, func(ord uint32) bool {
		a.Earlier = append(a.Earlier, x.seqs[ord])
		return len(a.Earlier) < x.capacity
	})
	if len(a.Earlier) >= x.capacity {
		a.Full = true
		return a, nil
	}
	if uint64(len(x.seqs)) >= math.MaxUint32-1 {
		return a, fmt.Errorf("minhash_dedup: one owner's index holds %d entries, the most it can; use more partitions", len(x.seqs))
	}
	x.tables[k.Band].insert(k.Key, uint32(len(x.seqs)))
	x.seqs = append(x.seqs, seq)
	return a, nil
}

// joinState is the joiner's memory: the input positions of the documents it
// kept (ascending, as they come in input order) with their ids, and the
// kept document of every overflowed bucket.
type joinState struct {
	keptSeqs []uint64
	overflow map[flow.BucketKey]uint32 // → ordinal in keptSeqs and ids
	lastSeq  uint64
	started  bool
}

func (j *joinState) kept(seq uint64) (uint32, bool) {
	i := sort.Search(len(j.keptSeqs), func(i int) bool { return j.keptSeqs[i] >= seq })
	if i < len(j.keptSeqs) && j.keptSeqs[i] == seq {
		return uint32(i), true
	}
	return 0, false
}

// JoinBuckets decides r as Process would, from its buckets' answers.
func (d *MinHashDedup) JoinBuckets(r *flow.Record, answers []flow.BucketAnswer) string {
	if len(answers) == 0 {
		d.counters.Add("no_tokens", 1)
		return ""
	}
	j := &d.join
	if j.started && r.Seq() <= j.lastSeq {
		// Input positions are what the owners order by; they must grow.
		d.counters.Add("out_of_order", 1)
	}
	j.started, j.lastSeq = true, r.Seq()
	for _, a := range answers {
		for _, s := range a.Earlier {
			if ord, ok := j.kept(s); ok {
				r.SetMeta("dup_of", d.ids.get(ord))
				return "near_duplicate"
			}
		}
		if a.Full {
			if ord, ok := j.overflow[a.BucketKey]; ok {
				r.SetMeta("dup_of", d.ids.get(ord))
				return "near_duplicate"
			}
		}
	}
	if uint64(d.ids.len()) >= math.MaxUint32-1 {
		d.counters.Add("index_full", 1)
		return ""
	}
	ord := d.ids.add(r.ID)
	j.keptSeqs = append(j.keptSeqs, r.Seq())
	for _, a := range answers {
		if a.Full {
			if j.overflow == nil {
				j.overflow = map[flow.BucketKey]uint32{}
			}
			j.overflow[a.BucketKey] = ord
		}
	}
	return ""
}

// joinBytes is the joiner's memory beyond the ids.
func (j *joinState) bytes() int { return 8*cap(j.keptSeqs) + 48*len(j.overflow) }

// sequentialMinHash is minhash_dedup with verify: not split across workers
// (the owners would need every candidate's signature), so it hides the
// BucketPartitioner methods and runs on one worker.
type sequentialMinHash struct{ d *MinHashDedup }

func (s sequentialMinHash) Sequential()                      {}
func (s sequentialMinHash) Process(r *flow.Record) string    { return s.d.Process(r) }
func (s sequentialMinHash) Finish(ctx context.Context) error { return s.d.Finish(ctx) }
