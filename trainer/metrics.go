package trainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// metricsRecord is one line of metrics.jsonl: kind "train" after every
// update, kind "eval" after every held-out evaluation. MarshalJSON writes the
// fields of its kind, zeros included (an accuracy of 0 is a measurement).
type metricsRecord struct {
	Kind     string   `json:"kind"`
	Step     int      `json:"step"`
	Epoch    int      `json:"epoch"`
	Loss     float64  `json:"loss"`
	MLMLoss  float64  `json:"mlm_loss"`
	MLMAcc   float64  `json:"mlm_accuracy"`
	NSPLoss  *float64 `json:"nsp_loss,omitempty"`
	NSPAcc   *float64 `json:"nsp_accuracy,omitempty"`
	LR       float64  `json:"lr"`
	GradNorm float64  `json:"grad_norm"`
	TokensPS float64  `json:"tokens_per_s"`
	Tokens   int64    `json:"tokens"`
	Examples int64    `json:"examples"`
	ElapsedS float64  `json:"elapsed_s"`

	EvalLoss   float64 `json:"eval_loss"`
	EvalPPL    float64 `json:"eval_perplexity"`
	EvalAcc    float64 `json:"eval_mlm_accuracy"`
	EvalTokens int     `json:"eval_tokens"`
}

func (r metricsRecord) MarshalJSON() ([]byte, error) {
	if r.Kind == "eval" {
		return json.Marshal(struct {
			Kind       string  `json:"kind"`
			Step       int     `json:"step"`
			Epoch      int     `json:"epoch"`
			EvalLoss   float64 `json:"eval_loss"`
			EvalPPL    float64 `json:"eval_perplexity"`
			EvalAcc    float64 `json:"eval_mlm_accuracy"`
			EvalTokens int     `json:"eval_tokens"`
		}{r.Kind, r.Step, r.Epoch, r.EvalLoss, r.EvalPPL, r.EvalAcc, r.EvalTokens})
	}
	type train struct {
		Kind     string   `json:"kind"`
		Step     int      `json:"step"`
		Epoch    int      `json:"epoch"`
		Loss     float64  `json:"loss"`
		MLMLoss  float64  `json:"mlm_loss"`
		MLMAcc   float64  `json:"mlm_accuracy"`
		NSPLoss  *float64 `json:"nsp_loss,omitempty"`
		NSPAcc   *float64 `json:"nsp_accuracy,omitempty"`
		LR       float64  `json:"lr"`
		GradNorm float64  `json:"grad_norm"`
		TokensPS float64  `json:"tokens_per_s"`
		Tokens   int64    `json:"tokens"`
		Examples int64    `json:"examples"`
		ElapsedS float64  `json:"elapsed_s"`
	}
	return json.Marshal(train{r.Kind, r.Step, r.Epoch, r.Loss, r.MLMLoss, r.MLMAcc, r.NSPLoss, r.NSPAcc, r.LR, r.GradNorm, r.TokensPS, r.Tokens, r.Examples, r.ElapsedS})
}

type metricsWriter struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
}

// openMetrics opens metrics.jsonl for appending. A resumed run first drops
// lines past its checkpoint's step, which an interrupted run may have
// written, so the file describes one consistent history.
func openMetrics(path string, resumedStep int) (*metricsWriter, error) {
	if old, err := os.ReadFile(path); err == nil {
		var keep bytes.Buffer
		for _, line := range bytes.SplitAfter(old, []byte("\n")) {
			var r struct {
				Step int `json:"step"`
			}
			if len(bytes.TrimSpace(line)) == 0 || json.Unmarshal(line, &r) != nil || r.Step > resumedStep {
				continue
			}
			keep.Write(line)
		}
		if err := writeFileAtomic(path, keep.Bytes()); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	return &metricsWriter{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// Write appends one record and flushes it, so a follower (tail -f, a
// dashboard) sees every update as it happens.
func (m *metricsWriter) Write(r metricsRecord) error {
	if err := m.enc.Encode(r); err != nil {
		return err
	}
	return m.w.Flush()
}

func (m *metricsWriter) Close() error {
	if m.f == nil {
		return nil
	}
	err := m.w.Flush()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	m.f = nil
	return err
}

// readMetrics parses metrics.jsonl.
func readMetrics(path string) ([]metricsRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []metricsRecord
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r metricsRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// progress is a terminal progress bar, or nothing when stderr is not a
// terminal (CI logs stay clean).
type progress struct {
	bar *progressbar.ProgressBar
}

func newProgress(enabled bool, total, done int) *progress {
	if !enabled || !isatty.IsTerminal(os.Stderr.Fd()) {
		return &progress{}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("train"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("step"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(200_000_000),
		progressbar.OptionClearOnFinish())
	bar.Set(done)
	return &progress{bar: bar}
}

func (p *progress) step(r metricsRecord) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("train loss %.3f acc %.3f %.0f tok/s", r.Loss, r.MLMAcc, r.TokensPS))
	p.bar.Add(1)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
