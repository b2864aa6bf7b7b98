package flow

import (
	"context"
	"io"
)

// Batch is the unit that crosses a stage boundary: records in input order,
// plus the records rejected on the way (so the rejects sink sees them in
// order too). Batching amortizes channel and network costs over many small
// records.
type Batch struct {
	Seq      uint64
	Records  []*Record
	Rejected []Rejection
}

// Link carries batches, in order, from one part of a pipeline to the next.
// Stages never see links; the engine does.
type Link interface {
	// Send blocks while the link is full: back-pressure reaches the source.
	Send(ctx context.Context, b *Batch) error
	// CloseSend says no more batches will be sent.
	CloseSend()
	// Recv returns the next batch, or io.EOF once the sender has closed and
	// every batch has been received.
	Recv(ctx context.Context) (*Batch, error)
}

// Transport makes the links between stages: in memory inside one process
// (the default), or Kafka topics when stages run on several machines.
type Transport interface {
	NewLink(from, to string) (Link, error)
}

// MemoryTransport links stages with bounded channels.
type MemoryTransport struct {
	// Capacity is the number of batches a link holds before Send blocks.
	Capacity int
}

// NewLink returns a bounded in-memory link.
func (t MemoryTransport) NewLink(from, to string) (Link, error) {
	c := t.Capacity
	if c < 1 {
		c = 1
	}
	return memoryLink(make(chan *Batch, c)), nil
}

type memoryLink chan *Batch

func (l memoryLink) Send(ctx context.Context, b *Batch) error {
	select {
	case l <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l memoryLink) CloseSend() { close(l) }

func (l memoryLink) Recv(ctx context.Context) (*Batch, error) {
	select {
	case b, ok := <-l:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// MemoryConfig configures the in-memory transport.
type MemoryConfig struct {
	Capacity int `yaml:"capacity" help:"batches each link holds before the stage before it waits; 0 = 2 × workers"`
}

func init() {
	RegisterTransport("memory", "in-process bounded channels (the default)", MemoryConfig{},
		func(c *MemoryConfig, env *Env) (Transport, error) {
			capacity := c.Capacity
			if capacity <= 0 {
				capacity = 2 * max(env.Workers, 1)
			}
			return MemoryTransport{Capacity: capacity}, nil
		})
}
