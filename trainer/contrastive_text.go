package trainer

import "strings"

// The contrastive model's text tower is the masked-LM trainer's BERT encoder
// (Model) without its heads: Model.encode and Model.encodeBackward
// (encoder_pass.go), the same code Model.run uses under the MLM and NSP
// heads. The whole-model gradient check of the contrastive model
// (contrastive_model_test.go) covers this path, and
// TestTextTowerMatchesMLMEncoder checks it gives exactly Model's hidden
// states.

// textTowerPrefix replaces the masked-LM checkpoint's "bert." so the tower's
// names are a Hugging Face BertModel's under "text_model." (the layout of
// transformers' VisionTextDualEncoderModel).
const textTowerPrefix = "text_model."

// encoderParams returns the encoder's parameters (not the MLM or NSP heads)
// renamed under prefix. They share values and gradients with m's.
func (m *Model[T]) encoderParams(prefix string) []*Param[T] {
	var out []*Param[T]
	for _, p := range m.params.list {
		rest, ok := strings.CutPrefix(p.Name, "bert.")
		if !ok || strings.HasPrefix(rest, "pooler.") {
			continue
		}
		q := *p
		q.Name = prefix + rest
		out = append(out, &q)
	}
	return out
}
