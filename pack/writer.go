package pack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/cespare/xxhash/v2"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// Writer defaults.
const (
	DefaultBatchRows     = 1024
	DefaultMaxShardBytes = 256 << 20
)

// WriterOptions configure a ShardWriter.
type WriterOptions struct {
	Dir         string
	Format      string // FormatFile (default) or FormatStream
	Compression string // "none" (default), "lz4" or "zstd"
	// BatchRows is the number of rows per Arrow record batch.
	BatchRows int
	// MaxShardBytes starts a new shard once a shard has reached this size;
	// the check runs after each batch, so a shard may exceed it by one batch.
	MaxShardBytes int64
	// MaxRows, when positive, caps the rows of a shard exactly.
	MaxRows int64
	Logger  *slog.Logger
	// OnShardClosed, when set, is called after each shard is final under
	// its name and listed in the manifest, and once more when the manifest
	// is complete; an error fails the write (or Close) that closed it.
	OnShardClosed func(ShardClosed) error
}

// ShardClosed tells a follower that a shard can be read: Shard is its
// manifest entry (empty in the last notice when Close had no shard left
// to close), Complete says the directory is final, and Shards, Rows and
// Bytes are the manifest's totals so far.
type ShardClosed struct {
	Dir      string
	Shard    ShardInfo
	Index    int // the shard's position in the manifest
	Complete bool
	Shards   int
	Rows     int64
	Bytes    int64
}

// ShardWriter writes records as Arrow shards plus manifest.json into a
// directory. Each shard is written to a temporary name, synced and renamed;
// the manifest is rewritten atomically after every closed shard. It is the
// engine of the `arrow` sink.
type ShardWriter struct {
	opts   WriterOptions
	logger *slog.Logger
	mem    memory.Allocator

	started bool // the directory was prepared (fresh or resumed)
	failed  error
	// cut is set when the run is interrupted: from then on nothing more is
	// persisted, and Close leaves the manifest incomplete.
	cut atomic.Bool

	layout     *Layout
	sameLayout *Layout // the last copy of layout found equal to it
	schema     *arrow.Schema
	manifest   Manifest

	// Resuming: the first skip records are replays of rows already in
	// shards; they are hashed and checked against the manifest, not written.
	skip, skipped     int64
	skipShard         int
	shardRowsReplayed int64

	rv      rowValues
	content *contentHasher
	dropped int64 // records not written after an interruption

	// The shard being written.
	builder   *array.RecordBuilder
	batchRows int
	shard     *openShard
}

// openShard is a shard file under its temporary name.
type openShard struct {
	file   *atomicfile.File
	out    *countingWriter
	buf    *bufio.Writer
	writer interface {
		Write(arrow.Record) error
		Close() error
	}
	rows int64
}

// NewShardWriter checks opts; it touches the directory only when the first
// record arrives, or when Resume is called.
func NewShardWriter(opts WriterOptions) (*ShardWriter, error) {
	if opts.Dir == "" {
		return nil, errors.New("no output directory")
	}
	if opts.Format == "" {
		opts.Format = FormatFile
	}
	if opts.Format != FormatFile && opts.Format != FormatStream {
		return nil, fmt.Errorf("format %q is not %s or %s", opts.Format, FormatFile, FormatStream)
	}
	if opts.Compression == "" {
		opts.Compression = "none"
	}
	switch opts.Compression {
	case "none", "lz4", "zstd":
	default:
		return nil, fmt.Errorf("compression %q is not none, lz4 or zstd", opts.Compression)
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.MaxShardBytes <= 0 {
		opts.MaxShardBytes = DefaultMaxShardBytes
	}
	if opts.MaxRows < 0 {
		return nil, fmt.Errorf("max_rows %d is negative", opts.MaxRows)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &ShardWriter{opts: opts, logger: logger, mem: memory.NewGoAllocator(), content: newContentHasher()}
	w.manifest = Manifest{
		Version:     ManifestVersion,
		Format:      opts.Format,
		Compression: opts.Compression,
		Shards:      []ShardInfo{},
		Writer:      WriterSettings{BatchRows: opts.BatchRows, MaxShardBytes: opts.MaxShardBytes, MaxRows: opts.MaxRows},
	}
	return w, nil
}

// Dir is the shard directory.
func (w *ShardWriter) Dir() string { return w.opts.Dir }

// StartFresh prepares the directory for a new run now instead of at the
// first record (flow.FreshStarter): it removes the previous run's shards and
// publishes an empty, incomplete manifest, so a reader that follows the
// directory from the start of the run (a train: section) waits for this
// run's shards instead of reading the previous run's complete ones. It must
// be called before the first record, and not after Resume.
func (w *ShardWriter) StartFresh() error {
	if w.started {
		return errors.New("start fresh must be called once, before the first record and instead of resume")
	}
	return w.startFresh()
}

// startFresh empties the directory of a previous run's shards, manifest and
// temporary files, and publishes an empty, incomplete manifest so that a
// follower knows the directory is being written.
func (w *ShardWriter) startFresh() error {
	w.started = true
	if err := os.MkdirAll(w.opts.Dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(w.opts.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); n == ManifestName || shardNamePattern.MatchString(n) || atomicfile.IsTemp(n) {
			if err := os.Remove(filepath.Join(w.opts.Dir, n)); err != nil {
				return err
			}
		}
	}
	return writeManifest(w.opts.Dir, &w.manifest)
}

// Write adds one record. Records must all have the same layout.
func (w *ShardWriter) Write(r *flow.Record) error {
	if w.failed != nil {
		return w.failed
	}
	if err := w.write(r); err != nil {
		w.failed = err
		return err
	}
	return nil
}

func (w *ShardWriter) write(r *flow.Record) error {
	if w.cut.Load() {
		// Records after an interruption may be end-of-input flushes that an
		// uninterrupted run places elsewhere; --resume recomputes them.
		w.dropped++
		return nil
	}
	if w.layout == nil {
		if err := w.setLayout(r); err != nil {
			return err
		}
		if err := w.publishSchema(); err != nil {
			return err
		}
	} else if l := LayoutOf(r.Fields); l != nil && l != w.layout && l != w.sameLayout {
		// Records that crossed a process boundary carry copies of the layout.
		if !sameLayout(l, w.layout) {
			return fmt.Errorf("record %s has another layout than the records before it", r.ID)
		}
		w.sameLayout = l
	}
	if err := w.rv.extract(r, w.layout); err != nil {
		return err
	}
	w.content.addRow(w.layout, &w.rv)
	if w.skipped < w.skip {
		return w.replayed()
	}
	if w.shard == nil {
		if err := w.openShard(); err != nil {
			return err
		}
	}
	w.appendRow()
	w.batchRows++
	w.shard.rows++
	if w.batchRows >= w.opts.BatchRows || w.shardFull() {
		if err := w.flushBatch(); err != nil {
			return err
		}
	}
	if w.shardFull() {
		if err := w.closeShard(); err != nil {
			return err
		}
		return w.notifyClosed(true)
	}
	return nil
}

// replayed accounts for a record that a resumed run sees again: at the end
// of each shard, the replayed rows must hash like the rows written there.
func (w *ShardWriter) replayed() error {
	w.skipped++
	info := w.manifest.Shards[w.skipShard]
	w.shardRowsReplayed++
	if w.shardRowsReplayed < info.Rows {
		return nil
	}
	if got := w.content.sum(); got != info.ContentXXHash64 {
		return fmt.Errorf("resume: the replayed records of %s hash to %s, the interrupted run wrote %s: the input or the pipeline changed since; run again without --resume",
			info.File, got, info.ContentXXHash64)
	}
	w.content.reset()
	w.skipShard++
	w.shardRowsReplayed = 0
	return nil
}

func (w *ShardWriter) setLayout(r *flow.Record) error {
	l := LayoutOf(r.Fields)
	if l == nil {
		l = DocumentLayout(r.Tokens != nil)
	}
	w.layout = l
	w.schema = l.Schema()
	js := l.JSON()
	if w.skip > 0 || len(w.manifest.Shards) > 0 {
		// Resuming: the replayed run must make the same schema, metadata
		// included (pipeline checksum, vocabulary, corpusflow version).
		if fmt.Sprint(js) != fmt.Sprint(w.manifest.Schema) {
			return fmt.Errorf("resume: the shards in %s were written with another schema or metadata (pipeline, vocabulary or corpusflow version changed); run again without --resume", w.opts.Dir)
		}
	}
	w.manifest.Schema = js
	w.builder = array.NewRecordBuilder(w.mem, w.schema)
	return nil
}

// publishSchema makes the schema known to followers as soon as the first
// record fixes it, before any shard closes: a follower learns the mode,
// sequence length and vocabulary from the manifest, and must not mistake a
// directory whose first shard is still open for one without metadata. A
// resumed directory that lists shards has the (checked) schema already.
func (w *ShardWriter) publishSchema() error {
	if !w.started {
		return w.startFresh()
	}
	if len(w.manifest.Shards) > 0 {
		return nil
	}
	return writeManifest(w.opts.Dir, &w.manifest)
}

func (w *ShardWriter) shardFull() bool {
	if w.shard == nil {
		return false
	}
	if w.opts.MaxRows > 0 && w.shard.rows >= w.opts.MaxRows {
		return true
	}
	return w.batchRows == 0 && w.shard.out.n >= w.opts.MaxShardBytes
}

func (w *ShardWriter) appendRow() {
	for i, c := range w.layout.Columns {
		fb := w.builder.Field(i)
		switch c.Kind {
		case KindString:
			fb.(*array.StringBuilder).Append(w.rv.strings[i])
		case KindInt32:
			fb.(*array.Int32Builder).Append(w.rv.ints[i])
		case KindBinary:
			fb.(*array.BinaryBuilder).Append(w.rv.bytes[i])
		case KindInt32List:
			if c.Width > 0 {
				lb := fb.(*array.FixedSizeListBuilder)
				lb.Append(true)
				lb.ValueBuilder().(*array.Int32Builder).AppendValues(w.rv.lists[i], nil)
			} else {
				lb := fb.(*array.ListBuilder)
				lb.Append(true)
				lb.ValueBuilder().(*array.Int32Builder).AppendValues(w.rv.lists[i], nil)
			}
		}
	}
}

func (w *ShardWriter) ipcOptions() []ipc.Option {
	opts := []ipc.Option{ipc.WithSchema(w.schema), ipc.WithAllocator(w.mem)}
	switch w.opts.Compression {
	case "lz4":
		opts = append(opts, ipc.WithLZ4())
	case "zstd":
		opts = append(opts, ipc.WithZstd())
	}
	return opts
}

func (w *ShardWriter) openShard() error {
	name := ShardName(len(w.manifest.Shards))
	f, err := atomicfile.Create(filepath.Join(w.opts.Dir, name))
	if err != nil {
		return err
	}
	out := &countingWriter{w: f, hash: xxhash.New()}
	buf := bufio.NewWriterSize(out, 1<<20)
	s := &openShard{file: f, out: out, buf: buf}
	if w.opts.Format == FormatStream {
		s.writer = ipc.NewWriter(buf, w.ipcOptions()...)
	} else {
		fw, err := ipc.NewFileWriter(&seekingBuffer{buf, out}, w.ipcOptions()...)
		if err != nil {
			f.Abort()
			return err
		}
		s.writer = fw
	}
	w.shard = s
	return nil
}

// flushBatch writes the rows built so far as one record batch.
func (w *ShardWriter) flushBatch() error {
	if w.batchRows == 0 {
		return nil
	}
	rec := w.builder.NewRecord()
	defer rec.Release()
	w.batchRows = 0
	if err := w.shard.writer.Write(rec); err != nil {
		return fmt.Errorf("%s: %w", w.shard.file.TempName(), err)
	}
	// Shard size counts what reached the file; flush so it is exact.
	return w.shard.buf.Flush()
}

// closeShard finishes the open shard, makes it durable under its final name
// and publishes it in the manifest.
func (w *ShardWriter) closeShard() error {
	if err := w.flushBatch(); err != nil {
		return err
	}
	s := w.shard
	w.shard = nil
	if err := s.writer.Close(); err != nil {
		s.file.Abort()
		return fmt.Errorf("%s: %w", s.file.TempName(), err)
	}
	if err := s.buf.Flush(); err != nil {
		s.file.Abort()
		return err
	}
	name := ShardName(len(w.manifest.Shards))
	if err := s.file.Commit(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	info := ShardInfo{
		File: name, Rows: s.rows, Bytes: s.out.n,
		XXHash64:        fmt.Sprintf("%016x", s.out.hash.Sum64()),
		ContentXXHash64: w.content.sum(),
	}
	w.content.reset()
	w.manifest.Shards = append(w.manifest.Shards, info)
	w.manifest.Rows += info.Rows
	w.manifest.Bytes += info.Bytes
	w.logger.Debug("shard closed", "file", name, "rows", info.Rows, "bytes", info.Bytes)
	return writeManifest(w.opts.Dir, &w.manifest)
}

// notifyClosed calls OnShardClosed for the last shard of the manifest (or
// none), once the manifest on disk lists it.
func (w *ShardWriter) notifyClosed(withShard bool) error {
	if w.opts.OnShardClosed == nil {
		return nil
	}
	ev := ShardClosed{Dir: w.opts.Dir, Index: -1, Complete: w.manifest.Complete, Shards: len(w.manifest.Shards), Rows: w.manifest.Rows, Bytes: w.manifest.Bytes}
	if withShard && len(w.manifest.Shards) > 0 {
		ev.Index = len(w.manifest.Shards) - 1
		ev.Shard = w.manifest.Shards[ev.Index]
	}
	if err := w.opts.OnShardClosed(ev); err != nil {
		return fmt.Errorf("announcing shard %s: %w", ev.Shard.File, err)
	}
	return nil
}

// Interrupted says the run did not read all its input (flow.Interruptible):
// records that arrive afterwards are not written, and Close drops the
// unfinished shard and leaves the manifest incomplete, so `--resume` can
// finish the directory exactly as an uninterrupted run. It is safe to call
// from any goroutine.
func (w *ShardWriter) Interrupted() { w.cut.Store(true) }

// Close finishes the last shard and marks the manifest complete, or after an
// interruption drops the unfinished shard.
func (w *ShardWriter) Close() error {
	defer func() {
		if w.builder != nil {
			w.builder.Release()
			w.builder = nil
		}
	}()
	if w.cut.Load() || w.failed != nil {
		dropped := w.dropped
		if w.shard != nil {
			w.shard.file.Abort()
			dropped += w.shard.rows
			w.shard = nil
		}
		if w.cut.Load() {
			w.logger.Warn("run interrupted: rows after the last complete shard were not written; `corpusflow run --resume` finishes the directory",
				"dir", w.opts.Dir, "rows_not_written", dropped, "complete_shards", len(w.manifest.Shards))
		}
		return nil
	}
	if !w.started {
		if err := w.startFresh(); err != nil {
			return err
		}
	}
	if w.skipped < w.skip {
		return fmt.Errorf("resume: the replayed run produced %d records, fewer than the %d already in %s: the input changed; run again without --resume", w.skipped, w.skip, w.opts.Dir)
	}
	closedOne := w.shard != nil
	if closedOne {
		if err := w.closeShard(); err != nil {
			return err
		}
	}
	w.manifest.Complete = true
	if err := writeManifest(w.opts.Dir, &w.manifest); err != nil {
		return err
	}
	return w.notifyClosed(closedOne)
}

// countingWriter counts and hashes what passes through to the file.
type countingWriter struct {
	w    io.Writer
	hash *xxhash.Digest
	n    int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.hash.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// seekingBuffer gives the IPC file writer the one seek it makes: asking for
// the current position. Shards are written strictly front to back.
type seekingBuffer struct {
	*bufio.Writer
	out *countingWriter
}

func (s *seekingBuffer) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekCurrent {
		return s.out.n + int64(s.Buffered()), nil
	}
	return 0, errors.New("shard files are written front to back; seeking is not supported")
}

// sameLayout reports whether two layouts describe the same schema.
func sameLayout(a, b *Layout) bool {
	if len(a.Columns) != len(b.Columns) || len(a.Metadata) != len(b.Metadata) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			return false
		}
	}
	for k, v := range a.Metadata {
		if bv, ok := b.Metadata[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
