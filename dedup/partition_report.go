package dedup

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/corpusflow/corpusflow/flow"
)

// The audit report across workers (flow.PartialReporter).
//
// Over Kafka several decontaminate workers each see part of the corpus. Each
// keeps what every record contributed to the report apart (KeepReportParts);
// the transport takes the contributions of each batch it sends on
// (ReportPart) and carries them, named like the batch, to the worker that
// writes the outputs, which drops repeats (a batch redone after a worker
// died) and adds each batch's part once (AddReportPart) to a fresh instance
// whose Finish writes the report. Every figure of the report is a sum, a
// maximum or the earliest matches by input position, so the merged report
// is the one a single process writes, byte for byte.

var _ flow.PartialReporter = (*Decontaminator)(nil)

type reportParts struct {
	mu       sync.Mutex
	byRecord map[*flow.Record]*leakContribution
}

func (p *reportParts) keep(r *flow.Record, c *leakContribution) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byRecord[r] = c
}

// KeepReportParts makes this instance keep each record's findings for
// ReportPart; its Finish then writes no report.
func (d *Decontaminator) KeepReportParts() {
	d.parts = &reportParts{byRecord: map[*flow.Record]*leakContribution{}}
}

// reportPart is the JSON of one batch's findings. Items are the index's
// item numbers, the same in every instance built from the same test sets
// (Items checks that).
type reportPart struct {
	Items        int               `json:"items"`
	Records      int64             `json:"records"`
	Bytes        int64             `json:"bytes"`
	Contaminated int64             `json:"contaminated,omitempty"`
	Cut          int64             `json:"cut,omitempty"`
	Dropped      int64             `json:"dropped,omitempty"`
	Near         []partNear        `json:"near,omitempty"`
	Matches      []partItemMatches `json:"matches,omitempty"`
}

type partNear struct {
	Item  int     `json:"item"`
	Score float64 `json:"score"`
}

type partItemMatches struct {
	Item  int           `json:"item"`
	Count int           `json:"count"`
	Seqs  []uint64      `json:"seqs"`
	Shown []matchRecord `json:"shown"`
}

// ReportPart returns the findings of recs (the records of one batch; those
// this instance did not check are skipped) and forgets them.
func (d *Decontaminator) ReportPart(recs []*flow.Record) ([]byte, error) {
	if d.parts == nil {
		return nil, fmt.Errorf("decontaminate: ReportPart without KeepReportParts")
	}
	var cs []*leakContribution
	d.parts.mu.Lock()
	for _, r := range recs {
		if c, ok := d.parts.byRecord[r]; ok {
			cs = append(cs, c)
			delete(d.parts.byRecord, r)
		}
	}
	d.parts.mu.Unlock()
	part := reportPart{Items: len(d.maxScore)}
	near := map[int]float64{}
	matches := map[int]*partItemMatches{}
	for _, c := range cs {
		part.Records++
		part.Bytes += c.bytes
		for _, v := range []struct {
			flag bool
			n    *int64
		}{{c.contaminated, &part.Contaminated}, {c.cut, &part.Cut}, {c.dropped, &part.Dropped}} {
			if v.flag {
				*v.n++
			}
		}
		for _, n := range c.near {
			near[n.item] = max(near[n.item], n.score)
		}
		for _, h := range c.hits {
			m := matches[h.item]
			if m == nil {
				m = &partItemMatches{Item: h.item}
				matches[h.item] = m
			}
			m.Count++
			m.Shown = keepEarliest(append(m.Shown, h.match), d.cfg.MaxExamples)
		}
	}
	for item, score := range near {
		part.Near = append(part.Near, partNear{item, score})
	}
	sort.Slice(part.Near, func(i, j int) bool { return part.Near[i].Item < part.Near[j].Item })
	for _, m := range matches {
		for _, s := range m.Shown {
			m.Seqs = append(m.Seqs, s.seq) // seq is not in matchRecord's JSON
		}
		part.Matches = append(part.Matches, *m)
	}
	sort.Slice(part.Matches, func(i, j int) bool { return part.Matches[i].Item < part.Matches[j].Item })
	return json.Marshal(part)
}

// AddReportPart adds one batch's findings, made by ReportPart of any
// instance with the same test sets, to this instance's report.
func (d *Decontaminator) AddReportPart(data []byte) error {
	var part reportPart
	if err := json.Unmarshal(data, &part); err != nil {
		return fmt.Errorf("decontaminate: report part: %w", err)
	}
	if part.Items != len(d.maxScore) {
		return fmt.Errorf("decontaminate: a report part about %d test items, this index has %d (workers with different test sets?)", part.Items, len(d.maxScore))
	}
	for _, m := range part.Matches {
		if m.Item < 0 || m.Item >= len(d.maxScore) || len(m.Seqs) != len(m.Shown) {
			return fmt.Errorf("decontaminate: report part: bad match entry for item %d", m.Item)
		}
	}
	for _, n := range part.Near {
		if n.Item < 0 || n.Item >= len(d.maxScore) {
			return fmt.Errorf("decontaminate: report part: bad item %d", n.Item)
		}
	}
	d.records.Add(part.Records)
	d.bytes.Add(part.Bytes)
	d.contaminated.Add(part.Contaminated)
	d.cut.Add(part.Cut)
	d.dropped.Add(part.Dropped)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range part.Near {
		d.maxScore[n.Item] = max(d.maxScore[n.Item], n.Score)
	}
	for _, m := range part.Matches {
		for i := range m.Shown {
			m.Shown[i].seq = m.Seqs[i]
		}
		d.counts[m.Item] += m.Count
		d.matches[m.Item] = keepEarliest(append(d.matches[m.Item], m.Shown...), d.cfg.MaxExamples)
	}
	return nil
}

// Finish writes the audit report, unless this instance only keeps parts
// for another to write it.
func (d *Decontaminator) Finish(ctx context.Context) error {
	if d.parts != nil {
		return nil
	}
	return WriteReport(d.reportDir, d.Report())
}
