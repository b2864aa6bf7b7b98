package tokenize

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// tokenizerJSON is the part of a Hugging Face tokenizer.json that decides
// token ids. Components this package does not reproduce are refused with an
// error rather than approximated.
type tokenizerJSON struct {
	AddedTokens []struct {
		ID         int32  `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   *jsonComponent `json:"normalizer"`
	PreTokenizer *jsonComponent `json:"pre_tokenizer"`
	Decoder      *jsonComponent `json:"decoder"`
	Model        jsonModel      `json:"model"`
}

// jsonComponent holds the options of a normalizer, pre-tokenizer or decoder
// that this package understands.
type jsonComponent struct {
	Type string `json:"type"`
	// BertNormalizer
	CleanText          *bool `json:"clean_text"`
	HandleChineseChars *bool `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          *bool `json:"lowercase"`
	// ByteLevel
	AddPrefixSpace *bool `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
	// WordPiece decoder
	Prefix  *string `json:"prefix"`
	Cleanup *bool   `json:"cleanup"`
}

type jsonModel struct {
	Type                    string           `json:"type"`
	Vocab                   map[string]int32 `json:"vocab"`
	Merges                  []json.RawMessage
	UnkToken                *string  `json:"unk_token"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    *int     `json:"max_input_chars_per_word"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	Dropout                 *float64 `json:"dropout"`
	FuseUnk                 bool     `json:"fuse_unk"`
	ByteFallback            bool     `json:"byte_fallback"`
	IgnoreMerges            bool     `json:"ignore_merges"`
}

// LoadTokenizerJSON reads a Hugging Face tokenizer.json whose model is
// WordPiece (with BertNormalizer and BertPreTokenizer) or byte-level BPE
// (with the ByteLevel pre-tokenizer).
func LoadTokenizerJSON(path string) (Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	return parseTokenizerJSON(path, data)
}

// parseTokenizerJSON builds a tokenizer from the bytes of a tokenizer.json;
// path names it in errors.
func parseTokenizerJSON(path string, data []byte) (Tokenizer, error) {
	var tj tokenizerJSON
	if err := json.Unmarshal(data, &tj); err != nil {
		return nil, fmt.Errorf("tokenizer.json %s: %w", path, err)
	}
	sha := sha256Hex(data)
	kind := tj.Model.Type
	if kind == "" { // the older format has no model type
		switch {
		case tj.Model.Merges != nil:
			kind = "BPE"
		case tj.Model.MaxInputCharsPerWord != nil || tj.Model.ContinuingSubwordPrefix != nil:
			kind = "WordPiece"
		}
	}
	switch kind {
	case "WordPiece":
		return wordPieceFromJSON(path, &tj, sha)
	case "BPE":
		return bpeFromJSON(path, &tj, sha)
	}
	return nil, fmt.Errorf("tokenizer.json %s: model type %q is not supported (WordPiece and BPE are)", path, tj.Model.Type)
}

func (tj *tokenizerJSON) addedTokens(path string, hasNormalizer bool) ([]addedToken, error) {
	var out []addedToken
	for _, a := range tj.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("tokenizer.json %s: added token %q has negative id %d", path, a.Content, a.ID)
		}
		if a.Normalized && hasNormalizer {
			return nil, fmt.Errorf("tokenizer.json %s: added token %q is matched after normalization, which is not supported", path, a.Content)
		}
		out = append(out, addedToken{content: a.Content, id: a.ID, special: a.Special, singleWord: a.SingleWord, lstrip: a.LStrip, rstrip: a.RStrip})
	}
	return out, nil
}

func wordPieceFromJSON(path string, tj *tokenizerJSON, sha string) (*WordPiece, error) {
	opts := WordPieceOptions{}
	if n := tj.Normalizer; n != nil {
		if n.Type != "BertNormalizer" {
			return nil, fmt.Errorf("tokenizer.json %s: normalizer %q is not supported with WordPiece (BertNormalizer is)", path, n.Type)
		}
		opts.CleanText = boolOr(n.CleanText, true)
		opts.TokenizeChinese = boolOr(n.HandleChineseChars, true)
		opts.Lowercase = boolOr(n.Lowercase, true)
		opts.StripAccents = boolOr(n.StripAccents, opts.Lowercase)
	}
	if p := tj.PreTokenizer; p == nil || p.Type != "BertPreTokenizer" {
		return nil, fmt.Errorf("tokenizer.json %s: WordPiece needs pre_tokenizer BertPreTokenizer", path)
	}
	m := &tj.Model
	if m.UnkToken != nil {
		opts.UnkToken = *m.UnkToken
	}
	if m.ContinuingSubwordPrefix != nil {
		opts.ContinuingSubwordPrefix = *m.ContinuingSubwordPrefix
	}
	if m.MaxInputCharsPerWord != nil {
		opts.MaxInputCharsPerWord = *m.MaxInputCharsPerWord
	}
	tokens, err := tokensByID(path, m.Vocab)
	if err != nil {
		return nil, err
	}
	added, err := tj.addedTokens(path, tj.Normalizer != nil)
	if err != nil {
		return nil, err
	}
	if added == nil {
		added = []addedToken{}
	}
	w, err := newWordPiece(path, tokens, added, opts, sha)
	if err != nil {
		return nil, err
	}
	if d := tj.Decoder; d != nil && d.Type == "WordPiece" {
		w.decodeCleanup = boolOr(d.Cleanup, true)
	}
	return w, nil
}

// tokensByID lists a vocabulary map by id; every id up to the largest must
// be present, as in a vocab.txt.
func tokensByID(path string, vocab map[string]int32) ([]string, error) {
	tokens := make([]string, len(vocab))
	seen := make([]bool, len(vocab))
	for tok, id := range vocab {
		if id < 0 || int(id) >= len(vocab) || seen[id] {
			return nil, fmt.Errorf("tokenizer.json %s: vocabulary ids must be 0..%d, each once (token %q has %d)", path, len(vocab)-1, tok, id)
		}
		tokens[id], seen[id] = tok, true
	}
	return tokens, nil
}

func bpeFromJSON(path string, tj *tokenizerJSON, sha string) (*BPE, error) {
	if tj.Normalizer != nil {
		return nil, fmt.Errorf("tokenizer.json %s: normalizer %q is not supported with BPE", path, tj.Normalizer.Type)
	}
	p := tj.PreTokenizer
	if p == nil || p.Type != "ByteLevel" {
		return nil, fmt.Errorf("tokenizer.json %s: only byte-level BPE is supported (pre_tokenizer ByteLevel)", path)
	}
	m := &tj.Model
	switch {
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fmt.Errorf("tokenizer.json %s: BPE dropout is random and not supported", path)
	case m.ByteFallback:
		return nil, fmt.Errorf("tokenizer.json %s: byte_fallback is not supported", path)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "",
		m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, fmt.Errorf("tokenizer.json %s: continuing_subword_prefix/end_of_word_suffix are not supported with byte-level BPE", path)
	}
	merges := make([][2]string, 0, len(m.Merges))
	for i, raw := range m.Merges {
		var pair [2]string
		var text string
		if err := json.Unmarshal(raw, &text); err == nil {
			left, right, ok := strings.Cut(text, " ")
			if !ok || strings.Contains(right, " ") {
				return nil, fmt.Errorf("tokenizer.json %s: merge %d %q is not two tokens", path, i+1, text)
			}
			pair = [2]string{left, right}
		} else if err := json.Unmarshal(raw, &pair); err != nil {
			return nil, fmt.Errorf("tokenizer.json %s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", path, i+1)
		}
		merges = append(merges, pair)
	}
	added, err := tj.addedTokens(path, false)
	if err != nil {
		return nil, err
	}
	cfg := bpeConfig{
		vocab: m.Vocab, merges: merges, added: added,
		addPrefixSpace: boolOr(p.AddPrefixSpace, true), useRegex: boolOr(p.UseRegex, true),
		ignoreMerges: m.IgnoreMerges,
	}
	if m.UnkToken != nil {
		cfg.unkToken = *m.UnkToken
	}
	return newBPE(path, cfg, sha)
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
