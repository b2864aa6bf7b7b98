package flow

// Sink receives the records that survive every stage, in input order.
//
// A sink writes to a temporary name and makes its output visible only in
// Close (rename), so a reader never picks up a half-written file. The engine
// calls Close also when a run is interrupted: what was written so far becomes
// a complete, valid file.
type Sink interface {
	Write(r *Record) error
	Close() error
}

// RejectSink receives every rejected record with the stage and reason.
type RejectSink interface {
	WriteRejection(rej Rejection) error
	Close() error
}
