package pack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// Resume prepares the writer to continue the directory of an interrupted
// run (flow.Resumer). It keeps the shards the manifest lists, after checking
// their checksums, removes everything else a crash may have left (temporary
// files, a shard renamed but not yet in the manifest), and arranges for the
// replayed records that fill those shards to be verified and skipped. It
// returns how many records will be skipped. Without a manifest it starts
// afresh.
func (w *ShardWriter) Resume() (int64, error) {
	if w.started {
		return 0, errors.New("resume must be called before the first record")
	}
	m, err := ReadManifest(w.opts.Dir)
	if errors.Is(err, ErrNoManifest) {
		w.logger.Info("nothing to resume: no manifest yet; starting afresh", "dir", w.opts.Dir)
		return 0, w.startFresh()
	}
	if err != nil {
		return 0, err
	}
	if m.Format != w.opts.Format || m.Compression != w.opts.Compression || m.Writer != w.manifest.Writer {
		return 0, fmt.Errorf("%s was written with format %s, compression %s, %+v; the pipeline now asks for %s, %s, %+v: shards would not line up; run again without --resume",
			w.opts.Dir, m.Format, m.Compression, m.Writer, w.opts.Format, w.opts.Compression, w.manifest.Writer)
	}
	listed := make(map[string]bool, len(m.Shards))
	for _, s := range m.Shards {
		listed[s.File] = true
		if err := verifyShardFile(filepath.Join(w.opts.Dir, s.File), s); err != nil {
			return 0, fmt.Errorf("resume: %w", err)
		}
	}
	entries, err := os.ReadDir(w.opts.Dir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		n := e.Name()
		if atomicfile.IsTemp(n) || (shardNamePattern.MatchString(n) && !listed[n]) {
			if err := os.Remove(filepath.Join(w.opts.Dir, n)); err != nil {
				return 0, err
			}
		}
	}
	if err := atomicfile.SyncDir(w.opts.Dir); err != nil {
		return 0, err
	}
	m.Complete = false
	w.manifest = *m
	w.skip = m.Rows
	w.started = true
	w.logger.Info("resuming", "dir", w.opts.Dir, "complete_shards", len(m.Shards), "rows", m.Rows)
	return w.skip, writeManifest(w.opts.Dir, &w.manifest)
}

// verifyShardFile checks a shard's size and xxhash64 against the manifest.
func verifyShardFile(path string, info ShardInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, n, err := hashFile(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if n != info.Bytes {
		return fmt.Errorf("%s: %d bytes, the manifest says %d", path, n, info.Bytes)
	}
	if sum != info.XXHash64 {
		return fmt.Errorf("%s: xxhash64 %s, the manifest says %s: the shard is corrupt", path, sum, info.XXHash64)
	}
	return nil
}
