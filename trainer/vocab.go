package trainer

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Vocab is what the trainer needs to know about a WordPiece vocabulary: its
// size, the special token ids, and which pieces continue a word ("##ing"),
// for whole-word masking.
type Vocab struct {
	Size         int
	CLS, SEP     int32
	PAD, MASK    int32
	UNK          int32
	Special      []bool // per id: [CLS], [SEP], [PAD], [MASK], [UNK] and other bracketed tokens
	Continuation []bool // per id: the piece starts with "##"
}

// ReadVocab reads a BERT vocab.txt (one token per line, id = line number).
func ReadVocab(path string) (*Vocab, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var tokens []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		tokens = append(tokens, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, err := VocabFromTokens(tokens)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// VocabFromTokens builds a Vocab from the token list (index = id).
func VocabFromTokens(tokens []string) (*Vocab, error) {
	v := &Vocab{Size: len(tokens), Special: make([]bool, len(tokens)), Continuation: make([]bool, len(tokens))}
	ids := map[string]int32{}
	for i, t := range tokens {
		if _, dup := ids[t]; !dup {
			ids[t] = int32(i)
		}
		v.Continuation[i] = strings.HasPrefix(t, "##") && len(t) > 2
		// [CLS], [unused7], <s>: reserved tokens never carry a training label.
		v.Special[i] = len(t) > 2 && ((t[0] == '[' && t[len(t)-1] == ']') || (t[0] == '<' && t[len(t)-1] == '>'))
	}
	for _, s := range []struct {
		name string
		dst  *int32
	}{{"[CLS]", &v.CLS}, {"[SEP]", &v.SEP}, {"[PAD]", &v.PAD}, {"[MASK]", &v.MASK}, {"[UNK]", &v.UNK}} {
		id, ok := ids[s.name]
		if !ok {
			return nil, fmt.Errorf("vocabulary of %d tokens has no %s token", len(tokens), s.name)
		}
		*s.dst = id
	}
	return v, nil
}
