package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"unicode/utf8"
)

// BPE is GPT-2/RoBERTa byte-level BPE: the ByteLevel pre-tokenizer (GPT-2's
// pattern, bytes shown as characters), the BPE model (merges applied lowest
// rank first) and the ByteLevel decoder of Hugging Face tokenizers, with the
// same ids.
type BPE struct {
	tokens []string // by id
	ids    map[string]int32
	merges mergeTable
	// byteID[b] is the id of the one-character token for byte b, -1 if absent.
	byteID  [256]int32
	unk     int32 // -1: characters outside the vocabulary are dropped, as the reference does
	special SpecialTokens
	added   *addedTokens
	sha     string
	// Options of the ByteLevel pre-tokenizer.
	addPrefixSpace bool
	useRegex       bool
	// ignoreMerges takes a piece that is itself a token as is (newer
	// tokenizer.json files, Llama 3 style).
	ignoreMerges bool
	cache        wordCache
	scratch      sync.Pool // *bpeScratch
}

// LoadBPE reads a GPT-2 style vocab.json (token → id) and merges.txt (one
// merge "left right" per line, in priority order, after an optional
// "#version" line).
func LoadBPE(vocabJSON, mergesTxt string) (*BPE, error) {
	vdata, err := os.ReadFile(vocabJSON)
	if err != nil {
		return nil, fmt.Errorf("bpe vocabulary: %w", err)
	}
	mdata, err := os.ReadFile(mergesTxt)
	if err != nil {
		return nil, fmt.Errorf("bpe merges: %w", err)
	}
	var vocab map[string]int32
	if err := json.Unmarshal(vdata, &vocab); err != nil {
		return nil, fmt.Errorf("bpe vocabulary %s: want a JSON object of token to id: %w", vocabJSON, err)
	}
	merges, err := parseMergesTxt(mergesTxt, mdata)
	if err != nil {
		return nil, err
	}
	// As the reference's GPT-2/RoBERTa tokenizers do, the usual special
	// tokens that the vocabulary holds are matched in the text.
	var added []addedToken
	for _, s := range []string{"<|endoftext|>", "<s>", "</s>", "<pad>", "<unk>", "<mask>"} {
		if id, ok := vocab[s]; ok {
			added = append(added, addedToken{content: s, id: id, special: true, lstrip: s == "<mask>"})
		}
	}
	cfg := bpeConfig{vocab: vocab, merges: merges, added: added, useRegex: true}
	return newBPE(vocabJSON, cfg, sha256Hex(vdata, mdata))
}

func parseMergesTxt(path string, data []byte) ([][2]string, error) {
	var merges [][2]string
	for line := 1; len(data) > 0; line++ {
		raw, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		text := strings.TrimSuffix(string(raw), "\r")
		if strings.HasPrefix(text, "#version") {
			continue
		}
		if !utf8.ValidString(text) {
			return nil, fmt.Errorf("bpe merges %s:%d: invalid UTF-8", path, line)
		}
		parts := strings.Split(text, " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("bpe merges %s:%d: want two tokens separated by one space, got %q", path, line, text)
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
	}
	return merges, nil
}

// bpeConfig is everything a BPE tokenizer is built from.
type bpeConfig struct {
	vocab          map[string]int32
	merges         [][2]string
	added          []addedToken
	unkToken       string
	addPrefixSpace bool
	useRegex       bool
	ignoreMerges   bool
}

func newBPE(source string, cfg bpeConfig, sha string) (*BPE, error) {
	initCharTables()
	b := &BPE{ids: cfg.vocab, sha: sha, unk: -1, addPrefixSpace: cfg.addPrefixSpace, useRegex: cfg.useRegex, ignoreMerges: cfg.ignoreMerges}
	// Ids are dense in every real vocabulary; a bound keeps a corrupt file
	// from asking for gigabytes.
	limit := len(cfg.vocab) + len(cfg.added)
	size := 0
	for tok, id := range cfg.vocab {
		if id < 0 || int(id) >= limit {
			return nil, fmt.Errorf("bpe vocabulary %s: token %q has id %d, want 0..%d", source, tok, id, limit-1)
		}
		size = max(size, int(id)+1)
	}
	for _, a := range cfg.added {
		if a.id < 0 || int(a.id) >= limit {
			return nil, fmt.Errorf("bpe vocabulary %s: added token %q has id %d, want 0..%d", source, a.content, a.id, limit-1)
		}
		size = max(size, int(a.id)+1)
	}
	b.tokens = make([]string, size)
	for tok, id := range cfg.vocab {
		b.tokens[id] = tok
	}
	for _, a := range cfg.added {
		if b.tokens[a.id] == "" {
			b.tokens[a.id] = a.content
		}
	}
	for i := range b.byteID {
		b.byteID[i] = -1
		if id, ok := cfg.vocab[string(byteToChar[i])]; ok {
			b.byteID[i] = id
		}
	}
	if cfg.unkToken != "" {
		id, ok := cfg.vocab[cfg.unkToken]
		if !ok {
			return nil, fmt.Errorf("bpe vocabulary %s: unknown token %q is not in the vocabulary", source, cfg.unkToken)
		}
		b.unk = id
	}
	b.merges = newMergeTable(len(cfg.merges))
	for rank, m := range cfg.merges {
		left, ok1 := cfg.vocab[m[0]]
		right, ok2 := cfg.vocab[m[1]]
		merged, ok3 := cfg.vocab[m[0]+m[1]]
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("bpe merges of %s: merge %d (%q %q) uses a token that is not in the vocabulary", source, rank+1, m[0], m[1])
		}
		b.merges.put(left, right, int32(rank), merged)
	}
	b.special = noSpecialTokens()
	for _, a := range cfg.added {
		b.assignSpecial(a.content, a.id)
	}
	if b.unk >= 0 {
		b.special.UNK = b.unk
	}
	b.added = newAddedTokens(cfg.added)
	b.cache.init()
	b.scratch.New = func() any { return new(bpeScratch) }
	return b, nil
}

// assignSpecial fills SpecialTokens from the conventional token names.
func (b *BPE) assignSpecial(content string, id int32) {
	s := &b.special
	switch content {
	case "<|endoftext|>":
		s.BOS, s.EOS = id, id
	case "<s>":
		s.BOS, s.CLS = id, id
	case "</s>":
		s.EOS, s.SEP = id, id
	case "<pad>":
		s.PAD = id
	case "<mask>":
		s.MASK = id
	case "<unk>":
		s.UNK = id
	}
}

// Kind is "bpe".
func (b *BPE) Kind() string { return KindBPE }

// VocabSize is the number of ids, added tokens included.
func (b *BPE) VocabSize() int { return len(b.tokens) }

// VocabSHA256 is the hex SHA-256 of the vocabulary file(s) as loaded
// (vocab.json then merges.txt, or the tokenizer.json).
func (b *BPE) VocabSHA256() string { return b.sha }

// Special returns the ids of the special tokens the vocabulary has.
func (b *BPE) Special() SpecialTokens { return b.special }

// TokenID returns the id of a token (in the byte-level alphabet: "Ġthe").
func (b *BPE) TokenID(token string) (int32, bool) {
	if id, ok := b.ids[token]; ok {
		return id, true
	}
	return b.added.lookup(token)
}

// Token returns the token string of id, in the byte-level alphabet.
func (b *BPE) Token(id int32) string {
	if id < 0 || int(id) >= len(b.tokens) {
		return ""
	}
	return b.tokens[id]
}

// Encode appends the byte-level BPE ids of text to dst.
func (b *BPE) Encode(text string, dst []int32) []int32 {
	prev := 0
	for {
		start, end, id := b.added.next(text, prev, prev)
		if start < 0 {
			return b.segment(text[prev:], dst)
		}
		dst = b.segment(text[prev:start], dst)
		dst = append(dst, id)
		prev = end
	}
}

// segment encodes text that contains no added token.
func (b *BPE) segment(s string, dst []int32) []int32 {
	if s == "" {
		return dst
	}
	if b.addPrefixSpace && s[0] != ' ' {
		s = " " + s
	}
	if !b.useRegex {
		return b.piece(s, dst)
	}
	for i := 0; i < len(s); {
		end := gpt2PieceEnd(s, i)
		dst = b.piece(s[i:end], dst)
		i = end
	}
	return dst
}

// piece encodes one pre-tokenized piece, from the cache when it can.
func (b *BPE) piece(p string, dst []int32) []int32 {
	if ids, ok := b.cache.get(p); ok {
		return append(dst, ids...)
	}
	mark := len(dst)
	dst = b.merge(p, dst)
	b.cache.put(p, dst[mark:])
	return dst
}

// Decode turns ids back into text: tokens are joined, byte-level characters
// become bytes again, and bytes that are not valid UTF-8 become U+FFFD (as
// the reference's from_utf8_lossy does). Unknown ids are skipped.
func (b *BPE) Decode(ids []int32) string {
	var raw []byte
	for _, id := range ids {
		tok := b.Token(id)
		if tok == "" {
			continue
		}
		var ok bool
		if raw, ok = byteLevelBytes(tok, raw); !ok {
			raw = append(raw, tok...)
		}
	}
	return string(appendLossyUTF8(nil, raw))
}
