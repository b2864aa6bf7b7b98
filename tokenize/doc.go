// Package tokenize turns text into token ids exactly as the reference
// tokenizers do: BERT WordPiece and GPT-2/RoBERTa byte-level BPE.
package tokenize
