package tokenize

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Tokenizer turns text into token ids and back.
//
// Implementations are safe for concurrent use: the pipeline stage calls Encode
// from many goroutines on one shared tokenizer.
type Tokenizer interface {
	// Encode appends the ids of text to dst and returns it. It adds no
	// special tokens ([CLS], [SEP], <s>...), but, like Hugging Face's
	// tokenizers, a special token written literally in the text ("[SEP]")
	// becomes that token instead of being split.
	Encode(text string, dst []int32) []int32
	// Decode turns ids back into text the way Hugging Face's decoder does
	// (special tokens are kept).
	Decode(ids []int32) string
	// TokenID is the id of a token string as it appears in the vocabulary.
	TokenID(token string) (int32, bool)
	// Token is the vocabulary string of id ("" when out of range).
	Token(id int32) string
	// VocabSize is the number of ids: every id is in [0, VocabSize).
	VocabSize() int
	// Kind is "wordpiece" or "bpe".
	Kind() string
	// VocabSHA256 is the hex SHA-256 of the vocabulary file(s) as loaded, so
	// shards can record exactly which vocabulary produced their ids.
	VocabSHA256() string
	// Special gives the ids of the special tokens (-1 when absent).
	Special() SpecialTokens
}

// The two kinds of tokenizer.
const (
	KindWordPiece = "wordpiece"
	KindBPE       = "bpe"
)

// SpecialTokens are the ids of the tokens models treat specially; -1 when the
// vocabulary has no such token. BERT vocabularies have CLS, SEP, PAD, MASK and
// UNK; GPT-2 has only <|endoftext|> (BOS and EOS); RoBERTa has all of them
// (<s> is both CLS and BOS, </s> both SEP and EOS).
type SpecialTokens struct {
	CLS, SEP, PAD, MASK, UNK, BOS, EOS int32
}

// noSpecialTokens is SpecialTokens with every id absent.
func noSpecialTokens() SpecialTokens {
	return SpecialTokens{CLS: -1, SEP: -1, PAD: -1, MASK: -1, UNK: -1, BOS: -1, EOS: -1}
}

// Load opens a vocabulary by its file name:
//
//   - *.txt (vocab.txt): a BERT WordPiece vocabulary; options come from a
//     tokenizer_config.json beside it, else from the file name ("uncased" →
//     lowercase), see DefaultWordPieceOptions.
//   - *.json whose content is a Hugging Face tokenizer.json: WordPiece or BPE
//     by its model.
//   - any other *.json (vocab.json): a byte-level BPE vocabulary with
//     merges.txt beside it (or <prefix>merges.txt for <prefix>vocab.json).
func Load(path string) (Tokenizer, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt":
		opts, err := DefaultWordPieceOptions(path)
		if err != nil {
			return nil, err
		}
		return LoadWordPiece(path, opts)
	case ".json":
		isTokenizerJSON, err := looksLikeTokenizerJSON(path)
		if err != nil {
			return nil, err
		}
		if isTokenizerJSON {
			return LoadTokenizerJSON(path)
		}
		merges, err := mergesBeside(path)
		if err != nil {
			return nil, err
		}
		return LoadBPE(path, merges)
	}
	return nil, fmt.Errorf("tokenizer %s: unknown vocabulary type (want vocab.txt, tokenizer.json or vocab.json with merges.txt)", path)
}

// looksLikeTokenizerJSON reports whether a .json file is a Hugging Face
// tokenizer.json (an object with a "model" member) rather than a plain
// token→id map.
func looksLikeTokenizerJSON(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("tokenizer: %w", err)
	}
	var probe struct {
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return false, fmt.Errorf("tokenizer %s: not valid JSON: %w", path, err)
	}
	// A vocab.json may well have a token "model"; a tokenizer.json's model is
	// an object.
	m := bytes.TrimSpace(probe.Model)
	return len(m) > 0 && m[0] == '{', nil
}

// mergesBeside finds the merges.txt that belongs to a vocab.json.
func mergesBeside(vocabJSON string) (string, error) {
	dir, base := filepath.Split(vocabJSON)
	candidates := []string{filepath.Join(dir, "merges.txt")}
	if prefix, ok := strings.CutSuffix(base, "vocab.json"); ok && prefix != "" {
		candidates = append([]string{filepath.Join(dir, prefix+"merges.txt")}, candidates...)
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("tokenizer %s: byte-level BPE needs merges.txt beside it (looked for %s)", vocabJSON, strings.Join(candidates, ", "))
}

// sha256Hex hashes the concatenation of the given byte slices.
func sha256Hex(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
