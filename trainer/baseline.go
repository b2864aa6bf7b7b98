package trainer

import (
	"context"
	"io"
	"math"
)

// Baseline is what a model that ignores context can do on masked tokens:
// the unigram entropy of the (non-special) tokens — the loss of predicting
// every masked token from corpus frequencies — and the accuracy of always
// predicting the most frequent token. A masked-LM that learned something from
// context ends well below the first and well above the second.
type Baseline struct {
	Tokens           int64   `json:"tokens"`
	UnigramEntropy   float64 `json:"unigram_entropy"`
	MajorityToken    int32   `json:"majority_token"`
	MajorityAccuracy float64 `json:"majority_accuracy"`
}

// ComputeBaseline counts the maskable tokens of one epoch of src.
func ComputeBaseline(ctx context.Context, src DataSource, vocab *Vocab) (Baseline, error) {
	s, err := openData(ctx, src, 0, nil)
	if err != nil {
		return Baseline{}, err
	}
	defer s.Close()
	counts := make([]int64, vocab.Size)
	var total int64
	for {
		ex, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return Baseline{}, err
		}
		for _, id := range ex.InputIDs {
			if id >= 0 && int(id) < vocab.Size && !vocab.Special[id] {
				counts[id]++
				total++
			}
		}
	}
	b := Baseline{Tokens: total}
	if total == 0 {
		return b, nil
	}
	var best int64
	for id, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / float64(total)
		b.UnigramEntropy -= p * math.Log(p)
		if c > best {
			best, b.MajorityToken = c, int32(id)
		}
	}
	b.MajorityAccuracy = float64(best) / float64(total)
	return b, nil
}
