package kafka

import (
	"fmt"
	"sort"

	"github.com/corpusflow/corpusflow/flow"
)

// gatherer restores batch order for a consumer whose stage depends on order
// (deduplication, packing) or that writes the sinks. Upstream workers send
// the parts of a batch in any order and possibly more than once (a worker
// that died after producing but before committing is replaced and produces
// the same frames again); the gatherer waits for every part of the next batch,
// drops repeated parts and parts of batches already released, and releases
// whole batches in order, so the stage sees exactly what it would see in one
// process.
type gatherer struct {
	next    uint64
	pending map[uint64]*gathering
	order   map[string]int // stage name -> position in the pipeline
	dups    int64
}

type gathering struct {
	want  uint64
	parts map[uint64]*frame
	keys  []msgKey // the Kafka messages the parts came in
}

// msgKey identifies one consumed Kafka message.
type msgKey struct {
	partition int
	offset    int64
}

// gathered is a released batch with the messages it was made of.
type gathered struct {
	batch *flow.Batch
	keys  []msgKey
	pos   map[*flow.Record]uint64 // the positions records and rejections came with
	// partKeys holds the partition keys the sender computed, when it did.
	partKeys map[*flow.Record]uint64
}

func newGatherer(stageOrder map[string]int) *gatherer {
	return &gatherer{pending: map[uint64]*gathering{}, order: stageOrder}
}

// add takes a data frame; it reports false when the frame repeats one
// already seen (the caller acknowledges its message at once).
func (g *gatherer) add(f *frame, key msgKey) bool {
	if f.batch < g.next {
		g.dups++
		return false
	}
	p := g.pending[f.batch]
	if p == nil {
		p = &gathering{want: f.gather, parts: map[uint64]*frame{}}
		g.pending[f.batch] = p
	}
	if _, dup := p.parts[f.part]; dup {
		g.dups++
		return false
	}
	p.parts[f.part] = f
	p.keys = append(p.keys, key)
	return true
}

// release returns the next batch when all its parts are in.
func (g *gatherer) release() (*gathered, bool) {
	p := g.pending[g.next]
	if p == nil || uint64(len(p.parts)) < p.want {
		return nil, false
	}
	delete(g.pending, g.next)
	b, pos, partKeys := g.merge(g.next, p)
	g.next++
	return &gathered{batch: b, keys: p.keys, pos: pos, partKeys: partKeys}, true
}

// merge joins the parts of a batch: kept records in their position order
// before the batch was split, rejections by stage (pipeline order) and then
// position, which is the order one process would have produced them in.
func (g *gatherer) merge(seq uint64, p *gathering) (b *flow.Batch, pos, partKeys map[*flow.Record]uint64) {
	b = &flow.Batch{Seq: seq}
	var recs []posRecord
	var rejs []posRejection
	ids := make([]uint64, 0, len(p.parts))
	for id := range p.parts {
		ids = append(ids, id)
	}
	// Parts in their order first, so that ties (records an Emitter made in
	// several partitions) always break the same way.
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		f := p.parts[id]
		recs = append(recs, f.records...)
		rejs = append(rejs, f.rejects...)
		if f.keyed {
			if partKeys == nil {
				partKeys = make(map[*flow.Record]uint64, len(f.records)*len(p.parts))
			}
			for _, pr := range f.records {
				partKeys[pr.r] = pr.key
			}
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].pos < recs[j].pos })
	sort.SliceStable(rejs, func(i, j int) bool {
		si, sj := g.stageIndex(rejs[i].rej.Stage), g.stageIndex(rejs[j].rej.Stage)
		if si != sj {
			return si < sj
		}
		return rejs[i].pos < rejs[j].pos
	})
	pos = make(map[*flow.Record]uint64, len(recs)+len(rejs))
	b.Records = make([]*flow.Record, len(recs))
	for i, pr := range recs {
		b.Records[i] = pr.r
		pos[pr.r] = pr.pos
	}
	if len(rejs) > 0 {
		b.Rejected = make([]flow.Rejection, len(rejs))
		for i, pj := range rejs {
			b.Rejected[i] = pj.rej
			pos[pj.rej.Record] = pj.pos
		}
	}
	return b, pos, partKeys
}

func (g *gatherer) stageIndex(name string) int {
	if i, ok := g.order[name]; ok {
		return i
	}
	return len(g.order)
}

// end checks, at the end of the stream, that every batch arrived.
func (g *gatherer) end(batches uint64) error {
	if g.next == batches && len(g.pending) == 0 {
		return nil
	}
	missing := g.next
	var partial []string
	for s, p := range g.pending {
		partial = append(partial, fmt.Sprintf("batch %d has %d of %d parts", s, len(p.parts), p.want))
	}
	sort.Strings(partial)
	return fmt.Errorf("stream ended with %d batches but batch %d never arrived complete (%d incomplete: %v); records would be lost", batches, missing, len(partial), partial)
}
