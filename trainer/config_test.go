package trainer

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHFConfigRoundTripAndReference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	c := MiniConfig(30522)
	c.NSP = true
	if err := c.WriteHFConfig(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadHFConfig(path)
	if err != nil || back != c {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	// Hugging Face's own bert-base-uncased config.json reads as BERT-base.
	ref, err := ParseHFConfig([]byte(`{"architectures":["BertForMaskedLM"],"attention_probs_dropout_prob":0.1,"gradient_checkpointing":false,"hidden_act":"gelu","hidden_dropout_prob":0.1,"hidden_size":768,"initializer_range":0.02,"intermediate_size":3072,"layer_norm_eps":1e-12,"max_position_embeddings":512,"model_type":"bert","num_attention_heads":12,"num_hidden_layers":12,"pad_token_id":0,"position_embedding_type":"absolute","transformers_version":"4.6.0.dev0","type_vocab_size":2,"use_cache":true,"vocab_size":30522}`))
	if err != nil || ref.HiddenSize != 768 || ref.NumLayers != 12 || ref.NSP {
		t.Fatalf("reference config: %+v %v", ref, err)
	}
	for name, bad := range map[string]string{
		"heads":     `{"vocab_size":10,"hidden_size":10,"num_hidden_layers":1,"num_attention_heads":3,"intermediate_size":4,"max_position_embeddings":8,"type_vocab_size":2}`,
		"not json":  `{`,
		"pad range": `{"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":4,"max_position_embeddings":8,"type_vocab_size":2,"pad_token_id":10}`,
	} {
		if _, err := ParseHFConfig([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseHFConfig(f *testing.F) {
	b, _ := os.ReadFile("testdata/bert-base-uncased-config.json")
	f.Add(b)
	f.Add([]byte(`{"vocab_size":5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseHFConfig(b)
		if err == nil && (c.NumHeads < 1 || c.HiddenSize%c.NumHeads != 0 || c.PadTokenID >= c.VocabSize || c.VocabSize < 2) {
			t.Fatalf("invalid config accepted: %+v", c)
		}
	})
}
