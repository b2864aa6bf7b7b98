package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// Reports of stages that run on several workers.
//
// A stage that writes a report from everything it saw (flow.PartialReporter:
// decontaminate's leakage audit) sees only part of the corpus in each
// worker. Each worker therefore sends, with every batch it produces, that
// batch's contribution to the report to the run's report topic
// (PREFIX.report-parts, one partition), named like the batch's frames; the
// batch's input is committed only once both are acknowledged. When a stage's
// step is complete its workers also write an end message, so a stage that
// saw no batch still gets its (empty) report. The sinks worker, at the end
// of its stream — when every such message is already in the topic — reads
// the topic, keeps one part per batch (a batch redone after a worker died
// sends the same part again), adds them to a fresh instance of the stage and
// finishes it, which writes the report the one-process run writes.
//
// A report message:
//
//	'C' 'R' version:byte kind:byte step:string
//	kind 1, a batch's part: batch:uvarint part:uvarint of:uvarint data:string
//	kind 2, the step is complete (no more parts)

const (
	reportData = 1
	reportEnd  = 2
)

// ReportTopic carries the report parts of stages that run on several workers.
func (t *Transport) ReportTopic() string { return t.TopicPrefix + ".report-parts" }

type reportMsg struct {
	kind byte
	step string
	id   identity
	data []byte
}

func appendReportMsg(dst []byte, m reportMsg) []byte {
	dst = append(dst, 'C', 'R', wireVersion, m.kind)
	dst = appendString(dst, m.step)
	if m.kind == reportData {
		dst = binary.AppendUvarint(dst, m.id.batch)
		dst = binary.AppendUvarint(dst, m.id.part)
		dst = binary.AppendUvarint(dst, m.id.of)
		dst = appendString(dst, string(m.data))
	}
	return dst
}

func decodeReportMsg(b []byte) (reportMsg, error) {
	if len(b) < 4 || b[0] != 'C' || b[1] != 'R' {
		return reportMsg{}, fmt.Errorf("%w: not a corpusflow report part (bad magic)", errCorrupt)
	}
	if b[2] != wireVersion {
		return reportMsg{}, fmt.Errorf("%w: report part version %d, this binary reads version %d", errCorrupt, b[2], wireVersion)
	}
	m := reportMsg{kind: b[3]}
	d := &decoder{b: b[4:]}
	m.step = d.string()
	switch m.kind {
	case reportData:
		m.id = identity{batch: d.uvarint(), part: d.uvarint(), of: d.uvarint()}
		m.data = d.bytes()
		if d.err == nil && m.id.part >= m.id.of {
			d.fail("part %d of %d", m.id.part, m.id.of)
		}
	case reportEnd:
	default:
		d.fail("unknown report part kind %d", m.kind)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the end of the report part", len(d.b))
	}
	return m, d.err
}

// sendReportPart produces the report part of the records of b, named id;
// onAck runs once the broker has it.
func (w *stageWorker) sendReportPart(ctx context.Context, l *lane, id identity, b *flow.Batch, onAck func()) error {
	data, err := l.reporter.ReportPart(batchRecords(b))
	if err != nil {
		return fmt.Errorf("stage %s: report part of batch %d: %w", w.name, id.batch, err)
	}
	value := appendReportMsg(nil, reportMsg{kind: reportData, step: w.name, id: id, data: data})
	return w.prod.send(ctx, w.run.Transport.ReportTopic(), 0, value, onAck)
}

// batchRecords lists a batch's kept and rejected records.
func batchRecords(b *flow.Batch) []*flow.Record {
	recs := make([]*flow.Record, 0, len(b.Records)+len(b.Rejected))
	recs = append(recs, b.Records...)
	for _, rej := range b.Rejected {
		recs = append(recs, rej.Record)
	}
	return recs
}

// writeReportEnd says step has sent all its report parts.
func writeReportEnd(ctx context.Context, t *Transport, step string) error {
	w := t.writer(nil)
	defer w.Close()
	value := appendReportMsg(nil, reportMsg{kind: reportEnd, step: step})
	if err := w.WriteMessages(ctx, kgo.Message{Topic: t.ReportTopic(), Value: value, WriterData: &outMessage{partition: 0}}); err != nil {
		return fmt.Errorf("kafka: writing the end of %s's report parts: %w", step, err)
	}
	return nil
}

// mergeReports reads the report topic to its end and writes the report of
// every stage that sent parts, from one part per batch.
func mergeReports(ctx context.Context, run *Run) error {
	t := run.Transport
	conn, err := kgo.DialLeader(ctx, "tcp", t.Brokers[0], t.ReportTopic(), 0)
	if err != nil {
		return fmt.Errorf("kafka: report topic: %w", err)
	}
	end, err := conn.ReadLastOffset()
	conn.Close()
	if err != nil {
		return fmt.Errorf("kafka: report topic end: %w", err)
	}
	if end == 0 {
		return nil
	}
	type merging struct {
		reporter flow.PartialReporter
		seen     map[identity]bool
		ended    bool
	}
	steps := map[string]*merging{}
	var order []string
	r := t.partitionReader(t.ReportTopic(), 0)
	read := false // read up to end
	defer func() { closeDrained(r, read) }()
	for next := int64(0); next < end; {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("kafka: reading %s: %w", t.ReportTopic(), err)
		}
		next = m.Offset + 1
		msg, err := decodeReportMsg(m.Value)
		if err != nil {
			return fmt.Errorf("kafka: %s offset %d: %w", t.ReportTopic(), m.Offset, err)
		}
		st := steps[msg.step]
		if st == nil {
			idx := run.stageIndex(msg.step)
			if idx < 0 {
				return fmt.Errorf("kafka: %s offset %d: a report part of %q, which is no stage of this pipeline", t.ReportTopic(), m.Offset, msg.step)
			}
			built, err := run.Stages[idx].New()
			if err != nil {
				return fmt.Errorf("building stage %s to write its report: %w", msg.step, err)
			}
			pr, ok := built.Stage.(flow.PartialReporter)
			if !ok {
				return fmt.Errorf("kafka: %s offset %d: report parts of stage %s, which does not merge reports", t.ReportTopic(), m.Offset, msg.step)
			}
			st = &merging{reporter: pr, seen: map[identity]bool{}}
			steps[msg.step] = st
			order = append(order, msg.step)
		}
		if msg.kind == reportEnd {
			st.ended = true
			continue
		}
		if st.seen[msg.id] {
			continue // a batch redone by another worker
		}
		st.seen[msg.id] = true
		if err := st.reporter.AddReportPart(msg.data); err != nil {
			return fmt.Errorf("kafka: %s offset %d: %w", t.ReportTopic(), m.Offset, err)
		}
	}
	read = true
	var errs []error
	for _, step := range order {
		st := steps[step]
		if !st.ended {
			errs = append(errs, fmt.Errorf("kafka: stage %s's report parts have no end: the step did not complete", step))
			continue
		}
		if err := st.reporter.Finish(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stage %s report: %w", step, err))
		}
	}
	return errors.Join(errs...)
}
