package kafka

import (
	"sync"
	"sync/atomic"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/corpusflow/corpusflow/flow"
)

// WorkerStats is one worker's account: what its stage did (the same shape
// as stats.json), what crossed Kafka, and whether it kept up. Redelivered
// and replayed work is counted in the stage's figures too, so the run's
// totals are the sinks worker's, not the sum over workers.
type WorkerStats struct {
	Step   string `json:"step"`
	Worker string `json:"worker"`
	// FramesIn and FramesOut count consumed and produced Kafka messages;
	// BytesOut their encoded size before compression.
	FramesIn  int64 `json:"frames_in"`
	FramesOut int64 `json:"frames_out"`
	BytesOut  int64 `json:"bytes_out"`
	// DuplicateFrames were delivered twice (a worker was replaced) and dropped.
	DuplicateFrames int64 `json:"duplicate_frames"`
	// ReplayedFrames were read again to rebuild an order-dependent stage's
	// state after this worker took over a partition; Rebuilds counts those
	// take-overs.
	ReplayedFrames int64 `json:"replayed_frames"`
	Rebuilds       int64 `json:"rebuilds"`
	// ProduceWaitS is the time spent waiting for the brokers to acknowledge
	// earlier frames before sending more: back-pressure from downstream.
	ProduceWaitS float64 `json:"produce_wait_s"`
	// Lag is how many messages of its partitions the worker has not read yet
	// (from the high watermark each fetch reports, summed over the
	// partitions it read); it grows when this stage is the bottleneck.
	Lag      int64          `json:"lag"`
	ElapsedS float64        `json:"elapsed_s"`
	Run      *flow.RunStats `json:"run,omitempty"`
	Done     bool           `json:"done"`
	// Join is the joiner role of a bucketed stage's worker (see
	// flow.BucketPartitioner); the fields above are then its owner role.
	Join *WorkerStats `json:"join,omitempty"`

	start                                   time.Time
	framesIn, dupFrames, replayed, rebuilds atomic.Int64
	mu                                      sync.Mutex
	prod                                    *producer
	reader                                  *kgo.Reader
	runs                                    []*flow.RunStats
	lags                                    map[int]int64
}

// observe notes a consumed message's distance from its partition's end.
func (w *WorkerStats) observe(m kgo.Message) {
	w.framesIn.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lags == nil {
		w.lags = map[int]int64{}
	}
	w.lags[m.Partition] = max(m.HighWaterMark-m.Offset-1, 0)
}

func newWorkerStats(step, worker string) *WorkerStats {
	return &WorkerStats{Step: step, Worker: worker, start: time.Now()}
}

// addRun merges the stats of one RunStages/RunSources/RunSinks.
func (w *WorkerStats) addRun(s *flow.RunStats) {
	if s == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs = append(w.runs, s)
}

// snapshot fills the exported fields from the live counters.
func (w *WorkerStats) snapshot(done bool) *WorkerStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.FramesIn = w.framesIn.Load()
	w.DuplicateFrames = w.dupFrames.Load()
	w.ReplayedFrames = w.replayed.Load()
	w.Rebuilds = w.rebuilds.Load()
	if w.prod != nil {
		w.FramesOut = w.prod.frames.Load()
		w.BytesOut = w.prod.bytes.Load()
		w.ProduceWaitS = time.Duration(w.prod.waitNS.Load()).Seconds()
	}
	w.Lag = 0
	for _, l := range w.lags {
		w.Lag += l
	}
	w.ElapsedS = time.Since(w.start).Seconds()
	w.Run = mergeRuns(w.runs)
	w.Done = done
	return w
}

// Snapshot returns the stats as of now.
func (w *WorkerStats) Snapshot() *WorkerStats { return w.snapshot(w.Done) }

// reportEvery calls report every 2 s and at stop.
func (w *WorkerStats) reportEvery(report func(*WorkerStats), prod *producer, reader *kgo.Reader) (stop func()) {
	w.mu.Lock()
	w.prod, w.reader = prod, reader
	w.mu.Unlock()
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if report != nil {
					report(w.snapshot(false))
				}
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
		w.snapshot(true)
		if report != nil {
			report(w)
		}
	}
}

// mergeRuns adds up the stats of several runs of the same stages.
func mergeRuns(runs []*flow.RunStats) *flow.RunStats {
	if len(runs) == 0 {
		return nil
	}
	out := &flow.RunStats{Pipeline: runs[0].Pipeline, Workers: runs[0].Workers}
	stages := map[string]*flow.StageStats{}
	sinks := map[string]*flow.SinkStats{}
	for _, r := range runs {
		out.Sources = append(out.Sources, r.Sources...)
		out.Interrupted = out.Interrupted || r.Interrupted
		out.ElapsedS = max(out.ElapsedS, r.ElapsedS)
		for _, st := range r.Stages {
			m := stages[st.Name]
			if m == nil {
				m = &flow.StageStats{Name: st.Name, Use: st.Use, Rejected: map[string]int64{}}
				stages[st.Name] = m
				out.Stages = append(out.Stages, flow.StageStats{Name: st.Name})
			}
			m.In += st.In
			m.Kept += st.Kept
			m.Emitted += st.Emitted
			for k, v := range st.Rejected {
				m.Rejected[k] += v
			}
			for k, v := range st.Counts {
				if m.Counts == nil {
					m.Counts = map[string]int64{}
				}
				m.Counts[k] += v
			}
		}
		for _, sk := range r.Sinks {
			m := sinks[sk.Name]
			if m == nil {
				m = &flow.SinkStats{Name: sk.Name}
				sinks[sk.Name] = m
				out.Sinks = append(out.Sinks, flow.SinkStats{Name: sk.Name})
			}
			m.Records += sk.Records
		}
	}
	for i := range out.Stages {
		out.Stages[i] = *stages[out.Stages[i].Name]
	}
	for i := range out.Sinks {
		out.Sinks[i] = *sinks[out.Sinks[i].Name]
	}
	return out
}
