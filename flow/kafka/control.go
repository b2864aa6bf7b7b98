package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	kgo "github.com/segmentio/kafka-go"
)

// The control topic (one partition) is the run's shared memory: workers
// append small JSON events and every worker reads all of them.
//
//	{"step":"c4","event":"ended","partition":3,"batches":120,"worker":"host-123"}
//	  the worker that owns partition 3 of c4's input has processed everything
//	  up to the end-of-stream marker there, and its output is acknowledged;
//	  batches is the length of c4's input stream.
//	{"step":"c4","event":"failed","error":"...","worker":"..."}
//	  a worker met an error that more workers cannot fix (a corrupt frame, a
//	  lost batch); every worker of the run stops with that error.
//
// Sources write "ended" for partition 0 of the step "sources". A step is
// complete when every partition of its input has ended; its workers then
// write the end-of-stream marker to every partition of the next topic and
// exit. Events may repeat (a worker killed between writing and committing
// writes them again); reading them is idempotent.
type controlEvent struct {
	Step      string `json:"step"`
	Event     string `json:"event"`
	Partition int    `json:"partition"`
	Batches   uint64 `json:"batches,omitempty"`
	Error     string `json:"error,omitempty"`
	Worker    string `json:"worker,omitempty"`
}

// controlState is what the events say so far.
type controlState struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	ended   map[string]map[int]uint64
	failed  *controlEvent
}

func newControlState() *controlState {
	return &controlState{changed: make(chan struct{}), ended: map[string]map[int]uint64{}}
}

func (s *controlState) apply(ev controlEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.Event {
	case "ended":
		if s.ended[ev.Step] == nil {
			s.ended[ev.Step] = map[int]uint64{}
		}
		s.ended[ev.Step][ev.Partition] = ev.Batches
	case "failed":
		if s.failed == nil {
			e := ev
			s.failed = &e
		}
	default:
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait returns a channel closed at the next change.
func (s *controlState) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *controlState) partitionEnded(step string, p int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ended[step][p]
	return ok
}

// complete reports whether all partitions of step's input have ended, and
// the input stream's batch count.
func (s *controlState) complete(step string, partitions int) (bool, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.ended[step]
	if len(m) < partitions {
		return false, 0
	}
	var batches uint64
	for p := 0; p < partitions; p++ {
		b, ok := m[p]
		if !ok {
			return false, 0
		}
		batches = max(batches, b)
	}
	return true, batches
}

func (s *controlState) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed == nil {
		return nil
	}
	return fmt.Errorf("worker %s of step %s failed: %s", s.failed.Worker, s.failed.Step, s.failed.Error)
}

// control reads and writes the control topic.
type control struct {
	t      *Transport
	state  *controlState
	writer *kgo.Writer
	worker string
	reader *kgo.Reader
	next   int64
}

func newControl(t *Transport, worker string) *control {
	return &control{
		t: t, state: newControlState(), worker: worker,
		writer: &kgo.Writer{Addr: kgo.TCP(t.Brokers...), Transport: t.clientTransport(), Topic: t.ControlTopic(), BatchTimeout: time.Millisecond, RequiredAcks: kgo.RequireAll, MaxAttempts: 10},
	}
}

// catchUp reads the events already in the control topic, so a worker that
// starts late knows what happened before it.
func (c *control) catchUp(ctx context.Context) error {
	conn, err := kgo.DialLeader(ctx, "tcp", c.t.Brokers[0], c.t.ControlTopic(), 0)
	if err != nil {
		return fmt.Errorf("kafka: control topic: %w", err)
	}
	end, err := conn.ReadLastOffset()
	conn.Close()
	if err != nil {
		return fmt.Errorf("kafka: control topic end: %w", err)
	}
	c.reader = c.t.partitionReader(c.t.ControlTopic(), 0)
	for c.next < end {
		if err := c.readOne(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (c *control) readOne(ctx context.Context) error {
	m, err := c.reader.ReadMessage(ctx)
	if err != nil {
		return fmt.Errorf("kafka: reading the control topic: %w", err)
	}
	c.next = m.Offset + 1
	var ev controlEvent
	if err := json.Unmarshal(m.Value, &ev); err != nil {
		c.t.logger.Warn("kafka: ignoring a control event that is not JSON", "offset", m.Offset, "err", err)
		return nil
	}
	c.state.apply(ev)
	return nil
}

// follow reads the control topic until ctx ends.
func (c *control) follow(ctx context.Context) {
	defer c.reader.Close()
	for {
		if err := c.readOne(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.t.logger.Warn(err.Error())
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func (c *control) publish(ctx context.Context, ev controlEvent) error {
	ev.Worker = c.worker
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := c.writer.WriteMessages(ctx, kgo.Message{Value: b}); err != nil {
		return fmt.Errorf("kafka: writing to the control topic: %w", err)
	}
	return nil
}

// fail tells every worker of the run to stop; best effort.
func (c *control) fail(step string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.publish(ctx, controlEvent{Step: step, Event: "failed", Error: err.Error()})
}

func (c *control) close() { c.writer.Close() }
