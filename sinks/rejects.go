package sinks

import (
	"github.com/corpusflow/corpusflow/flow"
)

// Rejects writes every rejected record with the stage and reason, so a
// reviewer can see why each document went.
type Rejects struct {
	out      *JSONL
	withText bool
}

type rejectRecord struct {
	ID       string         `json:"id"`
	Stage    string         `json:"stage"`
	Reason   string         `json:"reason"`
	URL      string         `json:"url,omitempty"`
	Source   string         `json:"source,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Text     *string        `json:"text,omitempty"`
}

// NewRejects creates the rejects file at path (.jsonl, .jsonl.gz, .jsonl.zst).
func NewRejects(path string, withText bool) (*Rejects, error) {
	out, err := NewJSONL(path, true, false)
	if err != nil {
		return nil, err
	}
	return &Rejects{out: out, withText: withText}, nil
}

// WriteRejection appends one rejected record.
func (s *Rejects) WriteRejection(rej flow.Rejection) error {
	r := rej.Record
	rec := rejectRecord{ID: r.ID, Stage: rej.Stage, Reason: rej.Reason, URL: r.URL, Source: r.Source, Metadata: r.Meta}
	if s.withText {
		rec.Text = &r.Text
	}
	return s.out.writeLine(rec)
}

// Close completes the file.
func (s *Rejects) Close() error { return s.out.Close() }
