package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// ReaderOptions configure OpenReader.
type ReaderOptions struct {
	// Rank and WorldSize split the shards between data-parallel workers:
	// rank r reads the shards at positions r, r+WorldSize, ... of the
	// epoch's shard order. WorldSize 0 means 1.
	Rank, WorldSize int
	// Shuffle permutes the shard order of every epoch with a generator
	// seeded by (Seed, Epoch): every rank computes the same permutation, and
	// each epoch gets another one.
	Shuffle bool
	Seed    uint64
	Epoch   int
	// Start resumes inside the epoch: the first example returned is the one
	// at Start (a Reader's Position, saved in a checkpoint). The zero value
	// starts at the beginning; otherwise Start.Epoch must equal Epoch.
	Start Position
	// Follow reads a directory that is still being written: when the listed
	// shards are used up, Next waits for the manifest to list more and
	// returns io.EOF only once the manifest says the run is complete.
	Follow bool
	// PollInterval is how often a follower rereads the manifest (default 500 ms).
	PollInterval time.Duration
	// SkipVerify skips the xxhash64 check of each shard against the
	// manifest (it costs one hash pass over bytes already in memory). A
	// damaged shard then reaches the Arrow decoder: its metadata is checked
	// first (ipccheck.go) and the decoder may decode no more than 1 MiB +
	// 64x the shard's size in all (budget.go; real shards decode to 2-18x),
	// so it gives an error, but damage those checks cannot see (a changed
	// token id) is read as data.
	SkipVerify bool
	// VocabSHA256, when set, refuses shards made with another vocabulary.
	VocabSHA256 string
}

// Position locates an example in a rank's reading order: the epoch, the
// shard (0 for the first shard this rank reads in this epoch, 1 for the
// second, ...) and the row within that shard. The zero value is the start of
// epoch 0. A position is meaningful with the ReaderOptions it was read with
// (rank, world size, shuffle and seed).
type Position struct {
	Epoch int `json:"epoch"`
	Shard int `json:"shard"`
	Row   int `json:"row"`
}

// Example is one row of a shard. Columns a shard does not have are left
// empty (nil slices, zero numbers).
type Example struct {
	ID                string
	DocID             string
	InputIDs          []int32
	TokenTypeIDs      []int32
	Labels            []int32
	Targets           []int32
	Length            int
	TargetsLength     int
	NextSentenceLabel int
	// Image–text examples (mode image_text; see image_text.go for the columns).
	Image         []byte
	Width, Height int
	Caption       string
	ITMLabel      int
	Position      Position
	// Shard is the file the example was read from (provenance; Position.Shard
	// counts this rank's shards instead).
	Shard string
}

// Reader iterates the examples of a shard directory. It is not safe for
// concurrent use; open one per data-loading goroutine.
type Reader struct {
	dir      string
	opts     ReaderOptions
	manifest *Manifest
	metadata map[string]string

	order []int // manifest indices of this rank's shards, in reading order
	next  int   // index in order of the shard to open after the current one
	cur   *shardCursor
	pos   Position // of the next example
	// startRow is the row to start at in the first shard opened (resume).
	startRow int
}

// OpenReader opens the shard directory dir.
func OpenReader(dir string, opts ReaderOptions) (*Reader, error) {
	return OpenReaderContext(context.Background(), dir, opts)
}

// OpenReaderContext is OpenReader; with Follow, it waits for the directory's
// first manifest until ctx is done.
func OpenReaderContext(ctx context.Context, dir string, opts ReaderOptions) (*Reader, error) {
	if opts.WorldSize == 0 {
		opts.WorldSize = 1
	}
	if opts.WorldSize < 0 || opts.Rank < 0 || opts.Rank >= opts.WorldSize {
		return nil, fmt.Errorf("rank %d of world size %d: want 0 <= rank < world size", opts.Rank, opts.WorldSize)
	}
	if opts.Epoch < 0 {
		return nil, fmt.Errorf("epoch %d is negative", opts.Epoch)
	}
	if opts.Start != (Position{}) && opts.Start.Epoch != opts.Epoch {
		return nil, fmt.Errorf("start position is in epoch %d, the reader is opened for epoch %d", opts.Start.Epoch, opts.Epoch)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	r := &Reader{dir: dir, opts: opts, pos: Position{Epoch: opts.Epoch}}
	m, err := ReadManifest(dir)
	for opts.Follow && errors.Is(err, ErrNoManifest) {
		// The writer publishes the manifest before its first shard.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(opts.PollInterval):
		}
		m, err = ReadManifest(dir)
	}
	if err != nil {
		return nil, err
	}
	r.manifest = m
	r.metadata = m.Schema.Metadata
	if err := r.checkVocab(); err != nil {
		return nil, err
	}
	if opts.Shuffle && !m.Complete {
		return nil, fmt.Errorf("%s is still being written: shuffling needs every shard listed; read it with Follow and without Shuffle, or wait until it is complete", dir)
	}
	r.order = r.shardOrder(len(m.Shards))
	if opts.Start != (Position{}) {
		if err := r.seek(opts.Start); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Reader) checkVocab() error {
	if r.opts.VocabSHA256 == "" || r.metadata == nil {
		return nil
	}
	if got := r.metadata[MetaVocabSHA256]; got != "" && got != r.opts.VocabSHA256 {
		return fmt.Errorf("%s was packed with the vocabulary %s, not %s: token ids would mean other words", r.dir, got, r.opts.VocabSHA256)
	}
	return nil
}

// shardOrder is this rank's reading order for n listed shards.
func (r *Reader) shardOrder(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	if r.opts.Shuffle {
		rng := rand.New(rand.NewPCG(r.opts.Seed, uint64(r.opts.Epoch)))
		rng.Shuffle(n, func(i, j int) { all[i], all[j] = all[j], all[i] })
	}
	var mine []int
	for i := r.opts.Rank; i < n; i += r.opts.WorldSize {
		mine = append(mine, all[i])
	}
	return mine
}

// seek positions the reader at p.
func (r *Reader) seek(p Position) error {
	if p.Shard < 0 || p.Row < 0 {
		return fmt.Errorf("start position %+v is negative", p)
	}
	// A follower may resume at a shard that is not written yet; Next waits.
	if p.Shard > len(r.order) && !(r.opts.Follow && !r.manifest.Complete) {
		return fmt.Errorf("start position %+v: rank %d reads only %d shards in epoch %d", p, r.opts.Rank, len(r.order), r.opts.Epoch)
	}
	r.next = p.Shard
	r.startRow = p.Row
	r.pos = p
	return nil
}

// Manifest is the manifest as last read.
func (r *Reader) Manifest() *Manifest { return r.manifest }

// Metadata is the schema metadata of the shards (vocabulary checksum, mode,
// seq_len, special token ids, ...).
func (r *Reader) Metadata() map[string]string { return r.metadata }

// Position is where the next example will come from; save it to resume.
func (r *Reader) Position() Position { return r.pos }

// Next returns the next example, or io.EOF at the end of the epoch.
func (r *Reader) Next() (Example, error) { return r.NextContext(context.Background()) }

// NextContext is Next, giving up waiting for new shards when ctx is done.
func (r *Reader) NextContext(ctx context.Context) (Example, error) {
	for {
		if r.cur != nil {
			ex, ok, err := r.cur.next()
			if err != nil {
				return Example{}, err
			}
			if ok {
				ex.Position.Epoch = r.opts.Epoch
				ex.Position.Shard = r.next - 1
				r.pos = Position{Epoch: r.opts.Epoch, Shard: r.next - 1, Row: ex.Position.Row + 1}
				return ex, nil
			}
			r.cur = nil
		}
		if r.next < len(r.order) {
			if err := r.openShard(r.order[r.next]); err != nil {
				return Example{}, err
			}
			r.next++
			continue
		}
		if !r.opts.Follow || r.manifest.Complete {
			return Example{}, io.EOF
		}
		if err := r.waitForShards(ctx); err != nil {
			return Example{}, err
		}
	}
}

// waitForShards rereads the manifest until it lists more shards or says the
// run is complete.
func (r *Reader) waitForShards(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.opts.PollInterval):
		}
		m, err := ReadManifest(r.dir)
		if err != nil {
			return err
		}
		if len(m.Shards) < len(r.manifest.Shards) {
			return fmt.Errorf("%s: the manifest now lists %d shards, it listed %d: the directory was rewritten while being read", r.dir, len(m.Shards), len(r.manifest.Shards))
		}
		grown := len(m.Shards) > len(r.manifest.Shards)
		for i := range r.manifest.Shards {
			if m.Shards[i] != r.manifest.Shards[i] {
				return fmt.Errorf("%s: shard %s changed while being read", r.dir, m.Shards[i].File)
			}
		}
		if r.metadata == nil || len(r.manifest.Shards) == 0 {
			r.metadata = m.Schema.Metadata
			if err := r.checkVocab(); err != nil {
				return err
			}
		}
		old := len(r.manifest.Shards)
		r.manifest = m
		if grown {
			for s := old; s < len(m.Shards); s++ {
				if s%r.opts.WorldSize == r.opts.Rank {
					r.order = append(r.order, s)
				}
			}
			if r.next < len(r.order) {
				return nil
			}
		}
		if m.Complete {
			return nil
		}
	}
}

// openShard loads shard s (a manifest index), verifies it and positions the
// cursor at its first row, or at the resume row.
func (r *Reader) openShard(s int) error {
	info := r.manifest.Shards[s]
	path := filepath.Join(r.dir, info.File)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	cur, err := openVerified(data, info, r.manifest.Format, path, !r.opts.SkipVerify)
	if err != nil {
		return err
	}
	if r.startRow > 0 {
		if int64(r.startRow) > info.Rows {
			return fmt.Errorf("start position row %d is past the %d rows of %s", r.startRow, info.Rows, info.File)
		}
		if err := cur.skip(r.startRow); err != nil {
			return err
		}
		r.startRow = 0
	}
	r.cur = cur
	return nil
}

// openVerified checks a shard's bytes against its manifest entry and opens
// a cursor on them.
func openVerified(data []byte, info ShardInfo, format, path string, verify bool) (*shardCursor, error) {
	if int64(len(data)) != info.Bytes {
		return nil, fmt.Errorf("%s: %d bytes, the manifest says %d", path, len(data), info.Bytes)
	}
	if verify {
		if sum := hashBytes(data); sum != info.XXHash64 {
			return nil, fmt.Errorf("%s: xxhash64 %s, the manifest says %s: the shard is corrupt", path, sum, info.XXHash64)
		}
	}
	return newShardCursor(data, format, path, info.File, verify)
}
