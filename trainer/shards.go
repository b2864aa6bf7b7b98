package trainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/corpusflow/corpusflow/pack"
)

// ShardSource reads the Arrow shard directory that corpusflow's pack stage
// and arrow sink write, through pack's reader: a finished directory, or, with
// Follow, one that a running pipeline is still writing (an epoch then ends
// only when the manifest says the run is complete).
type ShardSource struct {
	Dir    string
	Follow bool
	// Shuffle permutes the shard order of each epoch (seeded; finished
	// directories only, since a follower cannot know every shard yet).
	Shuffle bool
	Seed    uint64
	// VocabSHA256, when set, refuses shards made with another vocabulary.
	VocabSHA256  string
	PollInterval time.Duration
	// NSP passes the shards' next_sentence_label on (shards in mode nsp).
	NSP bool
}

func (s *ShardSource) Describe() string {
	if s.Follow {
		return "shards in " + s.Dir + " (following)"
	}
	return "shards in " + s.Dir
}

func (s *ShardSource) options(epoch int) pack.ReaderOptions {
	return pack.ReaderOptions{
		Shuffle: s.Shuffle && !s.Follow, Seed: s.Seed, Epoch: epoch,
		Follow: s.Follow, PollInterval: s.PollInterval, VocabSHA256: s.VocabSHA256,
	}
}

// Open opens epoch at start (a pack.Position as JSON) or at its beginning.
func (s *ShardSource) Open(epoch int, start json.RawMessage) (ExampleStream, error) {
	return s.OpenContext(context.Background(), epoch, start)
}

// OpenContext is Open; when following a directory that has no manifest yet,
// it waits for one until ctx is done.
func (s *ShardSource) OpenContext(ctx context.Context, epoch int, start json.RawMessage) (ExampleStream, error) {
	opts := s.options(epoch)
	if start != nil {
		if err := json.Unmarshal(start, &opts.Start); err != nil {
			return nil, fmt.Errorf("shard position %s: %w", start, err)
		}
		if opts.Start.Epoch != epoch {
			return nil, fmt.Errorf("shard position %s is not in epoch %d", start, epoch)
		}
	}
	r, err := pack.OpenReaderContext(ctx, s.Dir, opts)
	if err != nil {
		return nil, err
	}
	return &shardStream{r: r, nsp: s.NSP}, nil
}

// ShardInfo is what the shards say about themselves.
type ShardInfo struct {
	Mode        string
	SeqLen      int
	VocabSize   int
	VocabFile   string
	VocabSHA256 string
	Specials    map[string]int32
}

// Info reads the shard metadata (waiting for it when following).
func (s *ShardSource) Info() (ShardInfo, error) { return s.InfoContext(context.Background()) }

// InfoContext reads the shard metadata. When following, it waits, until ctx
// is done, for a manifest whose schema names the mode: a run publishes an
// empty manifest when it starts and the schema with its first record.
func (s *ShardSource) InfoContext(ctx context.Context) (ShardInfo, error) {
	md, err := s.metadata(ctx)
	if err != nil {
		return ShardInfo{}, err
	}
	info := ShardInfo{Mode: md[pack.MetaMode], VocabFile: md[pack.MetaVocabFile], VocabSHA256: md[pack.MetaVocabSHA256]}
	info.SeqLen, _ = strconv.Atoi(md[pack.MetaSeqLen])
	info.VocabSize, _ = strconv.Atoi(md[pack.MetaVocabSize])
	if sp := md[pack.MetaSpecialTokens]; sp != "" {
		if err := json.Unmarshal([]byte(sp), &info.Specials); err != nil {
			return info, fmt.Errorf("%s: special tokens metadata %q: %w", s.Dir, sp, err)
		}
	}
	return info, nil
}

// metadata is the shards' schema metadata; a follower waits until it names
// the mode or the run is complete (a run that wrote nothing has none).
func (s *ShardSource) metadata(ctx context.Context) (map[string]string, error) {
	r, err := pack.OpenReaderContext(ctx, s.Dir, s.options(0))
	if err != nil {
		return nil, err
	}
	m := r.Manifest()
	poll := s.PollInterval
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	for s.Follow && m.Schema.Metadata[pack.MetaMode] == "" && !m.Complete {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
		next, err := pack.ReadManifest(s.Dir)
		if errors.Is(err, pack.ErrNoManifest) {
			continue // a fresh run replaces the manifest of the one before
		}
		if err != nil {
			return nil, err
		}
		m = next
	}
	return m.Schema.Metadata, nil
}

type shardStream struct {
	r   *pack.Reader
	nsp bool
}

func (s *shardStream) Next(ctx context.Context) (Example, error) {
	ex, err := s.r.NextContext(ctx)
	if err != nil {
		return Example{}, err
	}
	out := Example{
		InputIDs:     ex.InputIDs,
		TokenTypeIDs: ex.TokenTypeIDs,
		NSPLabel:     -1,
		Key:          ExampleKey{Epoch: ex.Position.Epoch, Shard: ex.Position.Shard, Row: ex.Position.Row},
		Shard:        ex.Shard,
	}
	if s.nsp {
		out.NSPLabel = ex.NextSentenceLabel
	}
	return out, nil
}

func (s *shardStream) Position() json.RawMessage {
	b, _ := json.Marshal(s.r.Position())
	return b
}

func (s *shardStream) Close() error { return nil }
