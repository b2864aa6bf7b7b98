package sinks

import (
	"fmt"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pack"
)

// ArrowConfig configures the Arrow shard sink.
type ArrowConfig struct {
	Path          string `yaml:"path" help:"shard directory: shard-00000.arrow, ... and manifest.json" required:"true" path:"output"`
	Format        string `yaml:"format" help:"Arrow IPC file (random access) or stream (what datasets.Dataset.from_file memory-maps)" choices:"file,stream"`
	Compression   string `yaml:"compression" help:"record batch body compression" choices:"none,lz4,zstd"`
	BatchRows     int    `yaml:"batch_rows" help:"rows per Arrow record batch"`
	MaxShardBytes int64  `yaml:"max_shard_bytes" help:"start a new shard once one reaches this many bytes (checked after each batch)"`
	MaxRows       int64  `yaml:"max_rows" help:"start a new shard after this many rows; 0 = no row limit"`
}

// Validate checks the numbers.
func (c *ArrowConfig) Validate() error {
	if c.BatchRows <= 0 {
		return &flow.FieldError{Field: "batch_rows", Err: fmt.Errorf("%d must be positive", c.BatchRows)}
	}
	if c.MaxShardBytes <= 0 {
		return &flow.FieldError{Field: "max_shard_bytes", Err: fmt.Errorf("%d must be positive", c.MaxShardBytes)}
	}
	if c.MaxRows < 0 {
		return &flow.FieldError{Field: "max_rows", Err: fmt.Errorf("%d must not be negative", c.MaxRows)}
	}
	return nil
}

func init() {
	flow.RegisterSink("arrow",
		"Arrow IPC shards with a manifest (packed examples, or documents with their tokens); resumable with run --resume",
		ArrowConfig{Format: "file", Compression: "zstd", BatchRows: pack.DefaultBatchRows, MaxShardBytes: pack.DefaultMaxShardBytes},
		func(c *ArrowConfig, env *flow.Env) (flow.Sink, error) { return NewArrow(c, env) })
}

// NewArrow makes the Arrow shard sink. It is a pack.ShardWriter, which also
// implements flow.Resumer and flow.Interruptible.
func NewArrow(c *ArrowConfig, env *flow.Env) (*pack.ShardWriter, error) {
	format := pack.FormatFile
	if c.Format == "stream" {
		format = pack.FormatStream
	}
	return pack.NewShardWriter(pack.WriterOptions{
		Dir:           c.Path,
		Format:        format,
		Compression:   c.Compression,
		BatchRows:     c.BatchRows,
		MaxShardBytes: c.MaxShardBytes,
		MaxRows:       c.MaxRows,
		Logger:        env.Logger,
		// Other sinks of the run (kafka with publish: shards) may follow
		// the directory through flow's shard notices.
		OnShardClosed: announceShard,
	})
}

func announceShard(ev pack.ShardClosed) error {
	return flow.AnnounceShard(flow.ShardNotice{
		Dir: ev.Dir, File: ev.Shard.File, Index: ev.Index, Rows: ev.Shard.Rows, Bytes: ev.Shard.Bytes, XXHash64: ev.Shard.XXHash64,
		Complete: ev.Complete, Shards: ev.Shards, TotalRows: ev.Rows, TotalBytes: ev.Bytes,
	})
}
