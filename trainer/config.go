package trainer

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// ModelConfig is the shape of a BERT encoder. The JSON names are those of a
// Hugging Face BertConfig, so config.json is read and written with one type.
type ModelConfig struct {
	VocabSize        int `json:"vocab_size"`
	HiddenSize       int `json:"hidden_size"`
	NumLayers        int `json:"num_hidden_layers"`
	NumHeads         int `json:"num_attention_heads"`
	IntermediateSize int `json:"intermediate_size"`
	MaxPositions     int `json:"max_position_embeddings"`
	TypeVocabSize    int `json:"type_vocab_size"`
	PadTokenID       int `json:"pad_token_id"`
	// NSP adds the pooler and next-sentence head (BertForPreTraining); it is
	// on when the shards carry nsp_label.
	NSP bool `json:"-"`
}

// TinyConfig is the 2-layer model the speed figures and the quickstart use.
func TinyConfig(vocab int) ModelConfig {
	return ModelConfig{VocabSize: vocab, HiddenSize: 128, NumLayers: 2, NumHeads: 2, IntermediateSize: 512, MaxPositions: 512, TypeVocabSize: 2}
}

// MiniConfig is BERT-Mini (Turc et al. 2019): 4 layers, hidden 256, 4 heads.
func MiniConfig(vocab int) ModelConfig {
	return ModelConfig{VocabSize: vocab, HiddenSize: 256, NumLayers: 4, NumHeads: 4, IntermediateSize: 1024, MaxPositions: 512, TypeVocabSize: 2}
}

// Validate reports the first field that makes the shape impossible.
func (c ModelConfig) Validate() error {
	switch {
	case c.VocabSize < 2:
		return fmt.Errorf("model: vocab_size %d must be at least 2", c.VocabSize)
	case c.HiddenSize < 1 || c.NumLayers < 0 || c.NumHeads < 1 || c.IntermediateSize < 1:
		return fmt.Errorf("model: hidden %d, layers %d, heads %d and ff %d must be positive", c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize)
	case c.HiddenSize%c.NumHeads != 0:
		return fmt.Errorf("model: hidden size %d is not a multiple of %d heads", c.HiddenSize, c.NumHeads)
	case c.MaxPositions < 1 || c.TypeVocabSize < 1:
		return fmt.Errorf("model: max_position_embeddings %d and type_vocab_size %d must be positive", c.MaxPositions, c.TypeVocabSize)
	case c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize:
		return fmt.Errorf("model: pad_token_id %d outside the vocabulary of %d", c.PadTokenID, c.VocabSize)
	}
	return nil
}

// hfConfig is config.json as transformers writes it for BERT. Dropout is 0
// because this trainer does not implement dropout; a model loaded from the
// checkpoint therefore computes exactly what the trainer computed.
func (c ModelConfig) hfConfig() map[string]any {
	arch := "BertForMaskedLM"
	if c.NSP {
		arch = "BertForPreTraining"
	}
	return map[string]any{
		"architectures":                []string{arch},
		"model_type":                   "bert",
		"vocab_size":                   c.VocabSize,
		"hidden_size":                  c.HiddenSize,
		"num_hidden_layers":            c.NumLayers,
		"num_attention_heads":          c.NumHeads,
		"intermediate_size":            c.IntermediateSize,
		"max_position_embeddings":      c.MaxPositions,
		"type_vocab_size":              c.TypeVocabSize,
		"pad_token_id":                 c.PadTokenID,
		"hidden_act":                   "gelu",
		"hidden_dropout_prob":          0.0,
		"attention_probs_dropout_prob": 0.0,
		"initializer_range":            initStd,
		"layer_norm_eps":               layerNormEps,
		"position_embedding_type":      "absolute",
		"tie_word_embeddings":          true,
		"torch_dtype":                  "float32",
		"use_cache":                    true,
		"corpusflow_nsp":               c.NSP,
	}
}

// WriteHFConfig writes config.json.
func (c ModelConfig) WriteHFConfig(path string) error {
	b, err := json.MarshalIndent(c.hfConfig(), "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// ReadHFConfig reads a config.json written by WriteHFConfig or by transformers.
func ReadHFConfig(path string) (ModelConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ModelConfig{}, err
	}
	c, err := ParseHFConfig(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseHFConfig decodes and validates the bytes of a BERT config.json.
func ParseHFConfig(b []byte) (ModelConfig, error) {
	var c ModelConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	var extra struct {
		NSP           *bool    `json:"corpusflow_nsp"`
		Architectures []string `json:"architectures"`
	}
	_ = json.Unmarshal(b, &extra)
	if extra.NSP != nil {
		c.NSP = *extra.NSP
	} else {
		for _, a := range extra.Architectures {
			c.NSP = c.NSP || a == "BertForPreTraining"
		}
	}
	return c, c.Validate()
}

// writeFileAtomic writes through internal/atomicfile (a synced temporary
// with a unique name, renamed), so a reader never sees half a file and a
// crash leaves the previous version.
func writeFileAtomic(path string, data []byte) error { return atomicfile.WriteFile(path, data) }
