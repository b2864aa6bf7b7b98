// Package pack packs token streams into fixed-length training examples and
// writes and reads them as Apache Arrow shards with a manifest.
//
// The `pack` stage (Stage, Config) is a flow.Emitter: it consumes documents
// whose Record.Tokens a tokenize stage filled, and emits example records
// whose columns are in Record.Fields (ColInputIDs, ColLength, ColLabels,
// ColTokenTypeIDs, ColNextSentenceLabel, ColTargets, ColTargetsLength,
// ColDocID), Record.ID being the example id. Modes: mlm (RoBERTa
// FULL-SENTENCES with doc_boundary cross, DOC-SENTENCES with strict;
// optional BERT static masks with dupe_factor), nsp (BERT sentence pairs)
// and span_corruption (T5). Each example record carries the stage's *Layout
// (AttachLayout, LayoutOf): its columns and the schema metadata (vocabulary
// checksum, special ids, seq_len, mode, pipeline checksum, version, Hugging
// Face features).
//
// ShardWriter, the engine of the `arrow` sink, writes records as Arrow IPC
// file or stream shards (none, lz4 or zstd bodies), each synced and renamed
// into place, and rewrites manifest.json atomically after every closed
// shard. It implements flow.Resumer and flow.Interruptible: `run --resume`
// keeps the complete shards and verifies and skips the replayed rows that
// made them.
//
// The Reader is the Go API trainers use:
//
//	r, err := pack.OpenReader(dir, pack.ReaderOptions{Rank: 0, WorldSize: 1, Shuffle: true, Seed: 1, Epoch: 0})
//	for {
//		ex, err := r.Next() // io.EOF at the end of the epoch
//		...                 // ex.InputIDs, ex.Length, ex.Labels, ...; r.Position() to checkpoint
//	}
//
// It reads in manifest order (or a per-epoch seeded shard permutation),
// verifies every shard's xxhash64, gives rank r the shards r, r+WorldSize,
// ..., resumes from a Position (epoch, shard, row) and, with Follow, reads a
// directory that is still being written until its manifest says complete.
// Inspect prints a directory's schema, metadata, statistics and decoded
// examples (`corpusflow inspect`). README.md in this directory shows how to
// load the shards with pyarrow, Hugging Face datasets and Arrow JS.
package pack
