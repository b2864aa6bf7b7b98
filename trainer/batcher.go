package trainer

import (
	"fmt"
)

// collator turns examples into masked batches. Sequences of one batch are
// padded to the longest of them; the shards usually have one fixed length.
type collator struct {
	masker *Masker
	vocab  *Vocab
	cfg    ModelConfig
}

// check explains why an example cannot be trained on, or returns nil.
func (c *collator) check(ex *Example) error {
	n := len(ex.InputIDs)
	switch {
	case n == 0:
		return fmt.Errorf("example %+v has no input_ids", ex.Key)
	case n > c.cfg.MaxPositions:
		return fmt.Errorf("example %+v has %d tokens, the model takes at most %d", ex.Key, n, c.cfg.MaxPositions)
	case ex.TokenTypeIDs != nil && len(ex.TokenTypeIDs) != n:
		return fmt.Errorf("example %+v has %d token_type_ids for %d input_ids", ex.Key, len(ex.TokenTypeIDs), n)
	}
	for i, id := range ex.InputIDs {
		if id < 0 || int(id) >= c.cfg.VocabSize {
			return fmt.Errorf("example %+v token %d: id %d outside the vocabulary of %d", ex.Key, i, id, c.cfg.VocabSize)
		}
	}
	for i, t := range ex.TokenTypeIDs {
		if t < 0 || int(t) >= c.cfg.TypeVocabSize {
			return fmt.Errorf("example %+v token %d: segment %d, type_vocab_size is %d", ex.Key, i, t, c.cfg.TypeVocabSize)
		}
	}
	if c.cfg.NSP && ex.NSPLabel != 0 && ex.NSPLabel != 1 {
		return fmt.Errorf("example %+v: the model has an NSP head but nsp_label is %d", ex.Key, ex.NSPLabel)
	}
	return nil
}

// collate masks the (already checked) examples and lays them out as a batch.
func (c *collator) collate(exs []Example) (*Batch, error) {
	S := 0
	types := false
	for i := range exs {
		S = max(S, len(exs[i].InputIDs))
		types = types || exs[i].TokenTypeIDs != nil
	}
	B := len(exs)
	b := &Batch{B: B, S: S, InputIDs: make([]int32, B*S), Valid: make([]bool, B*S)}
	if types {
		b.TokenTypes = make([]int32, B*S)
	}
	if c.cfg.NSP {
		b.NSPLabels = make([]int32, B)
	}
	ids := make([]int32, S)
	for r := range exs {
		ex := &exs[r]
		n := len(ex.InputIDs)
		row := b.InputIDs[r*S : (r+1)*S]
		for i := range row {
			row[i] = c.vocab.PAD
		}
		var err error
		pos0 := len(b.MaskedPos)
		b.MaskedPos, b.MaskedLabels, err = c.masker.Mask(ex.InputIDs, ex.Key, ids[:n], b.MaskedPos, b.MaskedLabels)
		if err != nil {
			return nil, fmt.Errorf("example %+v: %w", ex.Key, err)
		}
		for k := pos0; k < len(b.MaskedPos); k++ {
			b.MaskedPos[k] += int32(r * S)
		}
		copy(row, ids[:n])
		for i := 0; i < n; i++ {
			b.Valid[r*S+i] = ex.InputIDs[i] != c.vocab.PAD
		}
		if ex.TokenTypeIDs != nil {
			copy(b.TokenTypes[r*S:], ex.TokenTypeIDs)
		}
		if c.cfg.NSP {
			b.NSPLabels[r] = int32(ex.NSPLabel)
		}
	}
	return b, nil
}
