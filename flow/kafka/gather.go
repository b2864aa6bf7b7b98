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
	// lastSeq is the input position of the last record released to a
	// bucketed stage's joiner, which must see positions grow.
	lastSeq  uint64
	seqStart bool
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
	// want is how many parts the batch had.
	want uint64
	// buckets (a bucketed stage's owner) and answers (its joiner) are what
	// the records came with.
	buckets map[*flow.Record][]flow.BucketKey
	answers map[*flow.Record][]flow.BucketAnswer
	// err says the parts do not fit together; the batch must not be used.
	err error
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
	out := g.merge(g.next, p)
	out.keys, out.want = p.keys, p.want
	g.next++
	return out, true
}

// merge joins the parts of a batch: kept records in their position order
// before the batch was split, rejections by stage (pipeline order) and then
// position, which is the order one process would have produced them in.
func (g *gatherer) merge(seq uint64, p *gathering) *gathered {
	b := &flow.Batch{Seq: seq}
	var partKeys map[*flow.Record]uint64
	var recs []posRecord
	var rejs []posRejection
	var answersBySeq map[uint64][]flow.BucketAnswer
	joining := false
	ids := make([]uint64, 0, len(p.parts))
	for id := range p.parts {
		ids = append(ids, id)
	}
	// Parts in their order first, so that ties (records an Emitter made in
	// several partitions) always break the same way.
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		f := p.parts[id]
		if f.flags&frameAnswers != 0 {
			// A bucketed stage's owner answered for these records; the
			// records themselves come in the sender's parts.
			if answersBySeq == nil {
				answersBySeq = map[uint64][]flow.BucketAnswer{}
			}
			for _, pr := range f.records {
				answersBySeq[pr.r.Seq()] = append(answersBySeq[pr.r.Seq()], pr.answers...)
			}
			continue
		}
		joining = joining || f.flags&frameNAnswers != 0
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
	out := &gathered{batch: b, partKeys: partKeys}
	out.pos = make(map[*flow.Record]uint64, len(recs)+len(rejs))
	b.Records = make([]*flow.Record, len(recs))
	for i, pr := range recs {
		b.Records[i] = pr.r
		out.pos[pr.r] = pr.pos
		if len(pr.buckets) > 0 {
			if out.buckets == nil {
				out.buckets = make(map[*flow.Record][]flow.BucketKey, len(recs))
			}
			out.buckets[pr.r] = pr.buckets
		}
	}
	if len(rejs) > 0 {
		b.Rejected = make([]flow.Rejection, len(rejs))
		for i, pj := range rejs {
			b.Rejected[i] = pj.rej
			out.pos[pj.rej.Record] = pj.pos
		}
	}
	if joining || answersBySeq != nil {
		out.answers, out.err = g.joinAnswers(seq, recs, answersBySeq)
	}
	return out
}

// joinAnswers gives each record of a batch for a bucketed stage's joiner
// the answers its owners sent, by input position, and checks that every
// answer announced came and nothing else did.
func (g *gatherer) joinAnswers(batch uint64, recs []posRecord, bySeq map[uint64][]flow.BucketAnswer) (map[*flow.Record][]flow.BucketAnswer, error) {
	out := make(map[*flow.Record][]flow.BucketAnswer, len(recs))
	for _, pr := range recs {
		seq := pr.r.Seq()
		if g.seqStart && seq <= g.lastSeq {
			return nil, fmt.Errorf("batch %d: record %s at input position %d after position %d: a bucketed stage needs records in input order with their input positions (it cannot follow a stage that makes new records)", batch, pr.r.ID, seq, g.lastSeq)
		}
		g.seqStart, g.lastSeq = true, seq
		a := bySeq[seq]
		delete(bySeq, seq)
		if len(a) != pr.nAnswers {
			return nil, fmt.Errorf("batch %d: record %s has %d bucket answers, the sender announced %d", batch, pr.r.ID, len(a), pr.nAnswers)
		}
		if len(a) > 0 {
			sort.Slice(a, func(i, j int) bool { return a[i].Band < a[j].Band })
			out[pr.r] = a
		}
	}
	if len(bySeq) > 0 {
		return nil, fmt.Errorf("batch %d: %d bucket answers for records that are not in the batch", batch, len(bySeq))
	}
	return out, nil
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
