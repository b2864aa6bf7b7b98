// Package sinks holds where records and reports go: JSONL files, the rejects
// file, Arrow shard directories, Kafka topics.
package sinks
