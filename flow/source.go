package flow

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
)

// Source is one configured input: a glob of files, a directory, a Kafka topic.
type Source interface {
	// Parts lists the independent units the source reads, usually files, in
	// the order their records enter the pipeline. The engine reads several
	// parts at once (decompression is the costly part of ingest) but restores
	// this order, so output does not depend on the worker count.
	Parts() ([]Part, error)
}

// Part is one independently readable unit of a source.
type Part interface {
	// Name identifies the part in messages: usually the file path.
	Name() string
	// Size is the part's size on disk in bytes, or -1 when unknown; it feeds
	// the progress bar's ETA.
	Size() int64
	// Read streams the part's records to emit, in order, until the part ends,
	// ctx is cancelled, or emit returns an error (which Read must return).
	//
	// Bad input is not an error: Read reports it to report.Problem, skips what
	// it cannot use and goes on. Read returns an error only when the part as a
	// whole cannot be read (it cannot be opened); the engine counts that too
	// and moves on to the next part.
	Read(ctx context.Context, emit func(*Record) error, report *SourceReport) error
}

// maxLoggedProblems caps the warnings logged per source and problem kind, so
// a badly broken input does not flood the terminal; the counts stay exact.
const maxLoggedProblems = 5

// SourceReport accounts for what a source read: records, bytes and problems by
// kind. It is safe for concurrent use by several parts.
type SourceReport struct {
	name    string
	logger  *slog.Logger
	records atomic.Int64
	bytes   atomic.Int64
	parts   atomic.Int64

	mu       sync.Mutex
	problems map[string]int64
	skipped  map[string]int64
}

// NewSourceReport makes a report for the source called name; problems are
// logged to logger (nil: not logged).
func NewSourceReport(name string, logger *slog.Logger) *SourceReport {
	return &SourceReport{name: name, logger: logger, problems: map[string]int64{}, skipped: map[string]int64{}}
}

// Problem counts one piece of bad input of the given kind ("truncated_record",
// "invalid_utf8", "corrupt_gzip") and logs the first few. where names the file
// and record, so a user can find it.
func (s *SourceReport) Problem(kind, where string, err error) {
	s.mu.Lock()
	s.problems[kind]++
	n := s.problems[kind]
	s.mu.Unlock()
	if s.logger == nil || n > maxLoggedProblems {
		return
	}
	msg := fmt.Sprintf("%s: %s", where, kind)
	if err != nil {
		msg = fmt.Sprintf("%s: %s: %v", where, kind, err)
	}
	if n == maxLoggedProblems {
		msg += " (further problems of this kind are counted, not logged)"
	}
	s.logger.Warn(msg, "source", s.name)
}

// Skip counts one input record that is fine but not for this pipeline (a
// WARC request record, an image in a WARC read for text, an HTTP 404 page).
// Unlike Problem it is not a fault in the input, so it is not logged; it
// appears in stats.json under "skipped".
func (s *SourceReport) Skip(kind string) {
	s.mu.Lock()
	s.skipped[kind]++
	s.mu.Unlock()
}

// AddBytes counts n bytes of input (decompressed text) read.
func (s *SourceReport) AddBytes(n int64) { s.bytes.Add(n) }

// Bytes is the number of input bytes read so far.
func (s *SourceReport) Bytes() int64 { return s.bytes.Load() }

// Records is the number of records emitted so far.
func (s *SourceReport) Records() int64 { return s.records.Load() }

// Stats is the report as it appears in stats.json.
func (s *SourceReport) Stats() SourceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SourceStats{
		Name:    s.name,
		Parts:   s.parts.Load(),
		Records: s.records.Load(),
		Bytes:   s.bytes.Load(),
		Errors:  copyCounts(s.problems),
		Skipped: copyCounts(s.skipped),
	}
}

// ProblemKinds lists the kinds of problems seen so far, sorted.
func (s *SourceReport) ProblemKinds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	kinds := make([]string, 0, len(s.problems))
	for k := range s.problems {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
