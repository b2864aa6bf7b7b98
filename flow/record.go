// Package flow is corpusflow's ground floor: the record that moves through a
// pipeline, the interfaces every source, stage and sink implements, the
// registry that maps YAML names to them, the engine that runs them in order
// on many cores, and the statistics that account for every record.
//
// Every domain package (ingest, filter, dedup, tokenize, pack, sinks) imports
// flow and nothing of each other, so flow must stay small and dependency-free.
package flow

// Record is one document (or, after packing, one training example) moving
// through a pipeline.
//
// Fields that almost every stage reads are plain struct fields so that the hot
// path never touches a map; everything else goes in Meta.
type Record struct {
	// ID is unique within a run: WARC-Record-ID, a JSONL id field, or
	// "file:line" when the input has none. Rejections, dup_of and leak_of refer
	// to it.
	ID string
	// Text is the document body, valid UTF-8 (sources repair invalid bytes).
	Text string
	// URL and Timestamp are kept because C4-style outputs carry them.
	URL       string
	Timestamp string
	// Source names where the record came from ("file.warc.gz"), for messages.
	Source string
	// Meta holds anything else a source or stage wants to keep: language,
	// scores, dup_of, leak_of. JSON sinks write it as "metadata"; encoding/json
	// sorts map keys, so output stays deterministic.
	Meta map[string]any
	// Tokens are token ids once a tokenize stage has run.
	Tokens []int32
	// Fields carries typed columns for records that are not plain documents
	// (packed examples, image–text pairs); the stage that makes them documents
	// their names.
	Fields map[string]any

	// seq is the record's position in the input stream; the engine uses it to
	// restore order after parallel stages.
	seq uint64
	// partKey is the PartitionKey of the keyed stage the record goes to next,
	// computed ahead on the engine's workers (hasPartKey), so that the
	// stage's one goroutine only decides (see planSegments).
	partKey    uint64
	hasPartKey bool
}

// Seq is the record's position in the stream entering the engine.
func (r *Record) Seq() uint64 { return r.seq }

// SetMeta sets r.Meta[key], allocating the map on first use.
func (r *Record) SetMeta(key string, value any) {
	if r.Meta == nil {
		r.Meta = make(map[string]any, 4)
	}
	r.Meta[key] = value
}

// MetaString returns r.Meta[key] when it is a string.
func (r *Record) MetaString(key string) string {
	s, _ := r.Meta[key].(string)
	return s
}

// Rejection is a record that a stage refused, with the reason it gave.
type Rejection struct {
	Record *Record
	Stage  string
	Reason string
}
