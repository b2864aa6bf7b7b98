package flow

// RunStats is OUTPUT/stats.json: the account of a run. For every stage,
// In == Kept + Σ Rejected.
type RunStats struct {
	Pipeline    string        `json:"pipeline"`
	Workers     int           `json:"workers"`
	Sources     []SourceStats `json:"sources"`
	Stages      []StageStats  `json:"stages"`
	Sinks       []SinkStats   `json:"sinks"`
	ElapsedS    float64       `json:"elapsed_s"`
	Interrupted bool          `json:"interrupted,omitempty"`
}

// SourceStats accounts for one source.
type SourceStats struct {
	Name    string `json:"name"`
	Parts   int64  `json:"parts"`
	Records int64  `json:"records"`
	Bytes   int64  `json:"bytes"`
	// Errors counts bad input by kind (corrupt gzip, truncated record,
	// invalid UTF-8): skipped or repaired, logged, never fatal.
	Errors map[string]int64 `json:"errors"`
	// Skipped counts good input this pipeline does not want (non-HTML
	// responses, request records), by kind.
	Skipped map[string]int64 `json:"skipped,omitempty"`
}

// StageStats accounts for one stage.
type StageStats struct {
	Name     string           `json:"name"`
	Use      string           `json:"use"`
	In       int64            `json:"in"`
	Kept     int64            `json:"kept"`
	Rejected map[string]int64 `json:"rejected"`
	// Emitted counts records an Emitter stage produced (examples from
	// documents); it is not part of the in/kept/rejected balance.
	Emitted int64 `json:"emitted,omitempty"`
	// Counts holds what the stage counted beyond that (lines dropped by
	// reason, tokens, ...).
	Counts map[string]int64 `json:"counts,omitempty"`
}

// RejectedTotal is Σ Rejected.
func (s StageStats) RejectedTotal() int64 {
	var n int64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

// SinkStats accounts for one sink.
type SinkStats struct {
	Name    string `json:"name"`
	Records int64  `json:"records"`
}
