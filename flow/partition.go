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

// Bucketed partitioning: an order-dependent stage whose state is an index of
// buckets (MinHash LSH: one bucket per band of a document's signature), where
// two records can only interact when they share a bucket, and a record has
// several buckets that may live on different workers.
//
// Over Kafka such a stage runs in two roles. The sending side computes each
// record's buckets (BucketKeys, the costly part, on all its goroutines) and
// sends a small probe — (position, bucket) — to the worker that owns each
// bucket, and the record itself straight to the stage's joiner. Each owner
// keeps an index of its slice of the buckets (NewBucketIndex) and answers,
// in input order, which earlier records reached the bucket (Probe). The
// joiner gets every answer for a record and decides in input order
// (JoinBuckets). In one process the stage's Process does all of it.
type BucketPartitioner interface {
	Sequential
	// BucketKeys appends r's buckets to dst and returns it; none when r has
	// nothing to index (JoinBuckets then gets no answers). A pure function
	// of the record and the configuration, safe for concurrent use.
	BucketKeys(r *Record, dst []BucketKey) []BucketKey
	// NewBucketIndex returns an empty index for one owner's slice of the
	// buckets.
	NewBucketIndex() BucketIndex
	// JoinBuckets decides r from the answers of its buckets' owners, one
	// per bucket in BucketKeys order. It is called in input order, on one
	// goroutine, and must decide what Process would.
	JoinBuckets(r *Record, answers []BucketAnswer) (reject string)
}

// BucketKey is one bucket of a record: the band (the key's position in
// BucketKeys) and the bucket's hash within that band.
type BucketKey struct {
	Band int
	Key  uint64
}

// BucketAnswer is what the owner of a bucket knew when a record reached it.
type BucketAnswer struct {
	BucketKey
	// Earlier holds the input positions (Record.Seq) of the records that
	// reached the bucket before, oldest first: all of them, or the first
	// ones up to the index's capacity when Full.
	Earlier []uint64
	// Full says the index held its capacity of records for the bucket, so
	// records after the ones in Earlier were not recorded.
	Full bool
}

// BucketIndex is one owner's slice of a BucketPartitioner's index.
type BucketIndex interface {
	// Probe answers for the record at input position seq, then records it
	// under the bucket (unless the bucket is full). Probes come in input
	// order. An error means the bucket cannot exist (a corrupt probe).
	Probe(key BucketKey, seq uint64) (BucketAnswer, error)
}

// PartialReporter is a Finisher whose Finish writes a report built from
// every record the stage saw (decontaminate's audit report). When the stage
// runs on several workers each sees part of the records; the transport
// then carries each batch's contribution, named like the batch, to one
// worker, which adds every batch's once to a fresh instance and finishes
// it, so the report is the one a single process writes.
type PartialReporter interface {
	Finisher
	// KeepReportParts makes the instance keep each record's contribution
	// apart until ReportPart takes it, and its Finish write no report.
	// Called before the first record.
	KeepReportParts()
	// ReportPart encodes what recs contributed (records the instance did
	// not process are skipped) and forgets it. Safe for concurrent use.
	ReportPart(recs []*Record) ([]byte, error)
	// AddReportPart adds a part made by ReportPart of an instance with the
	// same configuration to this instance's report.
	AddReportPart(part []byte) error
}
