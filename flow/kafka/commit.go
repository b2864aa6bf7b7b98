package kafka

import (
	"context"
	"log/slog"
	"sync"

	kgo "github.com/segmentio/kafka-go"
)

// committer hands commit points to the consumer group from its own
// goroutine. Acknowledgements arrive on the producer's completion callback,
// which must never wait: kafka-go's CommitMessages blocks while the group
// rebalances, and a blocked callback would stall every produce of the
// worker. So acknowledgements only record the newest commit point per
// partition, and the committer sends what it finds when it gets to it.
type committer struct {
	reader *kgo.Reader
	topic  string
	logger *slog.Logger

	mu      sync.Mutex
	pending map[int]int64 // partition -> next offset to read
	wake    chan struct{}
}

func newCommitter(reader *kgo.Reader, topic string, logger *slog.Logger) *committer {
	return &committer{reader: reader, topic: topic, logger: logger, pending: map[int]int64{}, wake: make(chan struct{}, 1)}
}

// commit records that partition's input is done up to, not including, next.
func (c *committer) commit(partition int, next int64) {
	if next <= 0 {
		return
	}
	c.mu.Lock()
	if next > c.pending[partition] {
		c.pending[partition] = next
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run sends commit points until ctx ends, then sends the last ones.
func (c *committer) run(ctx context.Context) {
	for {
		select {
		case <-c.wake:
			c.flush(ctx)
		case <-ctx.Done():
			c.flush(context.Background())
			return
		}
	}
}

func (c *committer) flush(ctx context.Context) {
	c.mu.Lock()
	msgs := make([]kgo.Message, 0, len(c.pending))
	for p, next := range c.pending {
		msgs = append(msgs, kgo.Message{Topic: c.topic, Partition: p, Offset: next - 1})
	}
	clear(c.pending)
	c.mu.Unlock()
	if len(msgs) == 0 {
		return
	}
	if err := c.reader.CommitMessages(ctx, msgs...); err != nil {
		c.logger.Debug("kafka: commit", "topic", c.topic, "err", err)
	}
}
