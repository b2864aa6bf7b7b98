// Package tokenize turns text into token ids exactly as the reference
// tokenizers do: BERT WordPiece and GPT-2/RoBERTa byte-level BPE, with the
// ids of Hugging Face's tokenizers for the same vocabulary.
//
// Load opens a vocab.txt, a tokenizer.json or a vocab.json (+ merges.txt);
// every Tokenizer is safe for concurrent use and Encode allocates nothing per
// token. The `tokenize` pipeline stage puts the ids into Record.Tokens;
// WordCounter and Train learn new vocabularies in bounded memory.
//
// Exactness is checked, not assumed: testdata/tokenize/golden holds Hugging
// Face's ids (and, for GPT-2, tiktoken's) for 13,598 real and messy texts,
// and the character tables are generated from what Hugging Face answers for
// every Unicode code point (see tools/golden and
// testdata/tokenize/PROVENANCE.md).
package tokenize
