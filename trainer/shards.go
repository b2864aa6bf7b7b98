package trainer

import (
	"context"
	"encoding/json"
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
	opts := s.options(epoch)
	if start != nil {
		if err := json.Unmarshal(start, &opts.Start); err != nil {
			return nil, fmt.Errorf("shard position %s: %w", start, err)
		}
		if opts.Start.Epoch != epoch {
			return nil, fmt.Errorf("shard position %s is not in epoch %d", start, epoch)
		}
	}
	r, err := pack.OpenReader(s.Dir, opts)
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

// Info reads the shard metadata (waiting for the manifest when following).
func (s *ShardSource) Info() (ShardInfo, error) {
	r, err := pack.OpenReader(s.Dir, s.options(0))
	if err != nil {
		return ShardInfo{}, err
	}
	md := r.Metadata()
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
