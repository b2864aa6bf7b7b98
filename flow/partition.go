package flow

// Partitioner is implemented by order-dependent stages whose state splits by
// a key: exact deduplication keeps one set of hashes, and two records can only
// be duplicates of each other when their keys are equal. When a pipeline runs
// on several machines, records are routed to workers by PartitionKey, each
// worker owns the state for its slice of the keys, and still sees its records
// in input order, so its decisions are the ones a single process makes.
//
// A Sequential stage without PartitionKey runs on one worker at a time (the
// others stand by), because its decision for a record may depend on any
// record before it.
type Partitioner interface {
	Sequential
	// PartitionKey returns the key that decides which worker sees r. It must
	// be a pure function of the record and the stage's configuration, and
	// safe to call from many goroutines: the sending side calls it.
	PartitionKey(r *Record) uint64
}

// KeyedProcessor is implemented by a Partitioner that can decide from the key
// the sending side already computed for routing, instead of computing it
// again: ProcessKeyed(r, PartitionKey(r)) must return what Process(r)
// returns and change the stage's state the same way.
type KeyedProcessor interface {
	Partitioner
	ProcessKeyed(r *Record, key uint64) (reject string)
}
