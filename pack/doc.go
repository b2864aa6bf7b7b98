// Package pack packs token streams into fixed-length training examples and
// defines the Arrow shard schemas, writer, reader and manifest.
package pack
