package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// WordPieceOptions configure BERT's normalizer and WordPiece model. The zero
// value turns every normalization off; start from BertOptions or
// DefaultWordPieceOptions.
type WordPieceOptions struct {
	// Lowercase lowercases the text (uncased vocabularies).
	Lowercase bool
	// StripAccents decomposes (NFD) and drops nonspacing marks. BERT ties it
	// to Lowercase unless a tokenizer_config.json says otherwise.
	StripAccents bool
	// TokenizeChinese makes every CJK ideograph a word of its own.
	TokenizeChinese bool
	// CleanText drops control characters, NUL and U+FFFD and turns every
	// whitespace character into a space.
	CleanText bool
	// UnkToken is the unknown token ("[UNK]" when empty).
	UnkToken string
	// ContinuingSubwordPrefix marks pieces inside a word ("##" when empty).
	ContinuingSubwordPrefix string
	// MaxInputCharsPerWord: longer words become UnkToken (100 when 0).
	MaxInputCharsPerWord int
}

// BertOptions are the options of Hugging Face's BertTokenizer for a cased
// (lowercase=false) or uncased vocabulary.
func BertOptions(lowercase bool) WordPieceOptions {
	return WordPieceOptions{Lowercase: lowercase, StripAccents: lowercase, TokenizeChinese: true, CleanText: true}
}

func (o WordPieceOptions) withDefaults() WordPieceOptions {
	if o.UnkToken == "" {
		o.UnkToken = "[UNK]"
	}
	if o.ContinuingSubwordPrefix == "" {
		o.ContinuingSubwordPrefix = "##"
	}
	if o.MaxInputCharsPerWord <= 0 {
		o.MaxInputCharsPerWord = 100
	}
	return o
}

// DefaultWordPieceOptions decides how a vocab.txt is meant to be used: from a
// tokenizer_config.json beside it (do_lower_case, strip_accents,
// tokenize_chinese_chars; also "<name>-tokenizer_config.json" for
// "<name>-vocab.txt"), else from its name ("cased" without "uncased" means
// cased), else uncased like BertTokenizer's default.
func DefaultWordPieceOptions(vocabPath string) (WordPieceOptions, error) {
	dir, base := filepath.Split(vocabPath)
	var configs []string
	if prefix, ok := strings.CutSuffix(base, "vocab.txt"); ok && prefix != "" {
		configs = append(configs, filepath.Join(dir, prefix+"tokenizer_config.json"))
	}
	configs = append(configs, filepath.Join(dir, "tokenizer_config.json"))
	for _, c := range configs {
		data, err := os.ReadFile(c)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return WordPieceOptions{}, fmt.Errorf("tokenizer config: %w", err)
		}
		var cfg struct {
			DoLowerCase          *bool `json:"do_lower_case"`
			StripAccents         *bool `json:"strip_accents"`
			TokenizeChineseChars *bool `json:"tokenize_chinese_chars"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return WordPieceOptions{}, fmt.Errorf("tokenizer config %s: %w", c, err)
		}
		opts := BertOptions(cfg.DoLowerCase == nil || *cfg.DoLowerCase)
		if cfg.StripAccents != nil {
			opts.StripAccents = *cfg.StripAccents
		}
		if cfg.TokenizeChineseChars != nil {
			opts.TokenizeChinese = *cfg.TokenizeChineseChars
		}
		return opts, nil
	}
	name := strings.ToLower(base)
	cased := strings.Contains(name, "cased") && !strings.Contains(name, "uncased")
	return BertOptions(!cased), nil
}

// WordPiece is BERT's tokenizer: the BertNormalizer, BertPreTokenizer and
// WordPiece model of Hugging Face tokenizers, with the same ids.
type WordPiece struct {
	opts   WordPieceOptions
	tokens []string // by id; "" for an id shadowed by a later duplicate line
	ids    map[string]int32
	// shadowed ids have lost their token to a later duplicate line.
	shadowed map[int32]bool
	trie     *byteTrie
	cont     int32 // trie node of the continuation prefix, -1 if none
	unk      int32
	special  SpecialTokens
	added    *addedTokens
	sha      string
	// decodeCleanup undoes BERT's spacing around punctuation when decoding.
	decodeCleanup bool
	ascii         [utf8.RuneSelf]asciiClass
	encoders      sync.Pool // *wordPieceEncoder
}

// asciiClass is what the normalizer and pre-tokenizer do with an ASCII byte,
// precomputed for the options in use (the hot path for English text).
type asciiClass uint8

const (
	asciiKeep  asciiClass = iota // part of a word
	asciiUpper                   // part of a word, lowercased
	asciiSplit                   // ends a word (whitespace)
	asciiPunct                   // a word of its own
	asciiDrop                    // removed (control characters)
)

// LoadWordPiece reads a BERT vocab.txt (one token per line, id = line
// number).
func LoadWordPiece(vocabPath string, opts WordPieceOptions) (*WordPiece, error) {
	data, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("wordpiece vocabulary: %w", err)
	}
	tokens, err := parseVocabTxt(vocabPath, data)
	if err != nil {
		return nil, err
	}
	return newWordPiece(vocabPath, tokens, nil, opts, sha256Hex(data))
}

// parseVocabTxt splits a vocab.txt into tokens the way the reference reads it:
// one per line, trailing whitespace trimmed.
func parseVocabTxt(path string, data []byte) ([]string, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("wordpiece vocabulary %s: empty file", path)
	}
	var tokens []string
	for line := 1; len(data) > 0; line++ {
		raw, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("wordpiece vocabulary %s:%d: invalid UTF-8", path, line)
		}
		tokens = append(tokens, strings.TrimRightFunc(string(raw), unicode.IsSpace))
	}
	return tokens, nil
}

// newWordPiece builds the tokenizer from tokens indexed by id. added are the
// tokens matched before normalization; nil means BERT's special tokens that
// the vocabulary has.
func newWordPiece(source string, tokens []string, added []addedToken, opts WordPieceOptions, sha string) (*WordPiece, error) {
	initCharTables()
	opts = opts.withDefaults()
	w := &WordPiece{opts: opts, tokens: tokens, ids: make(map[string]int32, len(tokens)), sha: sha, decodeCleanup: true}
	size := 0
	for id, t := range tokens {
		w.ids[t] = int32(id)
		size += len(t)
	}
	w.trie = newByteTrie(size)
	for id, t := range tokens {
		if w.ids[t] != int32(id) {
			// A later line has the same token; the reference forgets this id.
			tokens[id] = ""
			if w.shadowed == nil {
				w.shadowed = map[int32]bool{}
			}
			w.shadowed[int32(id)] = true
			continue
		}
		w.trie.insert(t, int32(id))
	}
	w.cont = w.trie.walk(trieRoot, opts.ContinuingSubwordPrefix)
	unk, ok := w.ids[opts.UnkToken]
	if !ok {
		return nil, fmt.Errorf("wordpiece vocabulary %s: unknown token %q is not in the vocabulary", source, opts.UnkToken)
	}
	w.unk = unk
	w.special = noSpecialTokens()
	for _, s := range []struct {
		tok string
		id  *int32
	}{{"[CLS]", &w.special.CLS}, {"[SEP]", &w.special.SEP}, {"[PAD]", &w.special.PAD}, {"[MASK]", &w.special.MASK}, {opts.UnkToken, &w.special.UNK}} {
		if id, ok := w.ids[s.tok]; ok {
			*s.id = id
		}
	}
	if added == nil {
		for _, tok := range []string{"[PAD]", opts.UnkToken, "[CLS]", "[SEP]", "[MASK]"} {
			if id, ok := w.ids[tok]; ok {
				added = append(added, addedToken{content: tok, id: id, special: true})
			}
		}
	}
	w.added = newAddedTokens(added)
	w.encoders.New = func() any {
		e := &wordPieceEncoder{w: w}
		e.word = e.wordBuf[:0]
		e.pending = e.pendingBuf[:0]
		return e
	}
	for b := range w.ascii {
		w.ascii[b] = w.classifyASCII(byte(b))
	}
	return w, nil
}

func (w *WordPiece) classifyASCII(b byte) asciiClass {
	f := flagsOf(rune(b))
	switch {
	case w.opts.CleanText && f&fDrop != 0:
		return asciiDrop
	case w.opts.CleanText && f&fCleanSpace != 0, f&fBertSpace != 0:
		return asciiSplit
	case f&fBertPunct != 0:
		return asciiPunct
	case w.opts.Lowercase && 'A' <= b && b <= 'Z':
		return asciiUpper
	}
	return asciiKeep
}

// Options returns the options in use (with defaults filled in).
func (w *WordPiece) Options() WordPieceOptions { return w.opts }

// Kind is "wordpiece".
func (w *WordPiece) Kind() string { return KindWordPiece }

// VocabSize is the number of ids (lines of vocab.txt).
func (w *WordPiece) VocabSize() int { return len(w.tokens) }

// VocabSHA256 is the hex SHA-256 of the vocabulary file.
func (w *WordPiece) VocabSHA256() string { return w.sha }

// Special returns the ids of [CLS], [SEP], [PAD], [MASK] and [UNK].
func (w *WordPiece) Special() SpecialTokens { return w.special }

// TokenID returns the id of a vocabulary token.
func (w *WordPiece) TokenID(token string) (int32, bool) {
	id, ok := w.ids[token]
	return id, ok
}

// Token returns the vocabulary string of id.
func (w *WordPiece) Token(id int32) string {
	if id < 0 || int(id) >= len(w.tokens) {
		return ""
	}
	return w.tokens[id]
}

// Encode appends the WordPiece ids of text to dst.
func (w *WordPiece) Encode(text string, dst []int32) []int32 {
	// The encoder's buffers point into itself, so it would escape to the
	// heap on every call; a pool keeps Encode free of allocations.
	e := w.encoders.Get().(*wordPieceEncoder)
	defer w.encoders.Put(e)
	e.dst = dst
	e.word = e.word[:0]
	e.chars = 0
	e.pending = e.pending[:0]
	prev := 0
	for {
		start, end, id := w.added.next(text, prev, prev)
		if start < 0 {
			e.segment(text[prev:])
			dst, e.dst = e.dst, nil
			return dst
		}
		e.segment(text[prev:start])
		e.dst = append(e.dst, id)
		prev = end
	}
}

// words calls fn with each normalized, pre-tokenized word of text, skipping
// words longer than MaxInputCharsPerWord. fn must not keep the slice.
func (w *WordPiece) words(text string, fn func(word []byte)) {
	e := w.encoders.Get().(*wordPieceEncoder)
	defer w.encoders.Put(e)
	e.word, e.chars, e.pending = e.word[:0], 0, e.pending[:0]
	e.onWord = fn
	e.segment(text)
	e.onWord = nil
}

// Decode joins tokens as the reference's WordPiece decoder does: "##" pieces
// glue to the previous token, others are separated by a space, and (with
// cleanup) spaces before punctuation and in English contractions go away.
// Ids outside the vocabulary are skipped.
func (w *WordPiece) Decode(ids []int32) string {
	var b strings.Builder
	n := 0
	for _, id := range ids {
		if id < 0 || int(id) >= len(w.tokens) || w.shadowed[id] {
			continue
		}
		tok := w.tokens[id]
		if n > 0 {
			if rest, ok := strings.CutPrefix(tok, w.opts.ContinuingSubwordPrefix); ok {
				tok = rest
			} else {
				tok = " " + tok
			}
		}
		n++
		if w.decodeCleanup {
			tok = decodeCleanup(tok)
		}
		b.WriteString(tok)
	}
	return b.String()
}

var cleanupReplacer = []struct{ old, new string }{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
	{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

// decodeCleanup applies the reference's replacements one after the other (a
// strings.Replacer would apply them in one pass, which is not the same).
func decodeCleanup(s string) string {
	for _, r := range cleanupReplacer {
		s = strings.ReplaceAll(s, r.old, r.new)
	}
	return s
}
