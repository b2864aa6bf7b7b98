package trainer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Example is one training sequence as the shards store it: [CLS] … [SEP]
// padded with [PAD] to the shard's sequence length.
type Example struct {
	InputIDs     []int32
	TokenTypeIDs []int32 // nil when the shards have no segments
	// NSPLabel is 0 (B follows A) or 1 (B is random), or -1 without NSP.
	NSPLabel int
	// Key identifies the example in the stream (masking seed).
	Key ExampleKey
	// Shard is the shard file the example was read from ("" for in-memory
	// data); with Key.Row it names the example in every epoch, whatever
	// the epoch's shard order (Key.Shard counts shards in reading order).
	Shard string
}

// exampleID names an example across epochs: the held-out set is made of
// them, so that a shuffled epoch never trains on an evaluation example.
type exampleID struct {
	shard string
	row   int
}

func (ex *Example) id() exampleID { return exampleID{ex.Shard, ex.Key.Row} }

// ExampleStream yields the examples of one epoch in order. Next returns
// io.EOF at the end of the epoch; a stream that follows a directory still
// being written blocks until more examples exist or ctx ends.
type ExampleStream interface {
	Next(ctx context.Context) (Example, error)
	// Position is where the next example will come from, as opaque JSON that
	// the DataSource accepts back to resume there.
	Position() json.RawMessage
	Close() error
}

// DataSource opens an epoch's stream, from its start (start == nil) or from
// a saved position.
type DataSource interface {
	Open(epoch int, start json.RawMessage) (ExampleStream, error)
	// Describe names the data for logs and the run summary.
	Describe() string
}

// ContextOpener is a DataSource whose Open may wait (a followed shard
// directory that has no manifest yet): the trainer opens it with its own
// context, so a cancelled run never hangs there.
type ContextOpener interface {
	OpenContext(ctx context.Context, epoch int, start json.RawMessage) (ExampleStream, error)
}

// openData opens an epoch of d, with ctx when d can wait.
func openData(ctx context.Context, d DataSource, epoch int, start json.RawMessage) (ExampleStream, error) {
	if co, ok := d.(ContextOpener); ok {
		return co.OpenContext(ctx, epoch, start)
	}
	return d.Open(epoch, start)
}

// SliceSource serves examples held in memory, one shard, the same order
// every epoch. It is for tests and small experiments.
type SliceSource struct {
	Examples []Example
}

func (s *SliceSource) Describe() string { return fmt.Sprintf("%d in-memory examples", len(s.Examples)) }

func (s *SliceSource) Open(epoch int, start json.RawMessage) (ExampleStream, error) {
	st := &sliceStream{src: s, epoch: epoch}
	if start != nil {
		if err := json.Unmarshal(start, &st.next); err != nil {
			return nil, fmt.Errorf("in-memory data position %s: %w", start, err)
		}
		if st.next < 0 || st.next > len(s.Examples) {
			return nil, fmt.Errorf("in-memory data position %d outside %d examples", st.next, len(s.Examples))
		}
	}
	return st, nil
}

type sliceStream struct {
	src   *SliceSource
	epoch int
	next  int
}

func (s *sliceStream) Next(ctx context.Context) (Example, error) {
	if err := ctx.Err(); err != nil {
		return Example{}, err
	}
	if s.next >= len(s.src.Examples) {
		return Example{}, io.EOF
	}
	ex := s.src.Examples[s.next]
	ex.Key = ExampleKey{Epoch: s.epoch, Shard: 0, Row: s.next}
	s.next++
	return ex, nil
}

func (s *sliceStream) Position() json.RawMessage {
	b, _ := json.Marshal(s.next)
	return b
}

func (s *sliceStream) Close() error { return nil }
