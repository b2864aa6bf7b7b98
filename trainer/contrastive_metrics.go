package trainer

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// contrastiveTrainRecord is a "train" line of a contrastive run's
// metrics.jsonl, one per update.
type contrastiveTrainRecord struct {
	Kind        string  `json:"kind"`
	Step        int     `json:"step"`
	Epoch       int     `json:"epoch"`
	Loss        float64 `json:"loss"`
	I2TLoss     float64 `json:"i2t_loss"`
	T2ILoss     float64 `json:"t2i_loss"`
	I2TAcc      float64 `json:"i2t_accuracy"` // own caption ranked first among the keys
	T2IAcc      float64 `json:"t2i_accuracy"`
	Keys        int     `json:"keys"` // per query: batch + queue
	LogitScale  float64 `json:"logit_scale"`
	Temperature float64 `json:"temperature"`
	LR          float64 `json:"lr"`
	GradNorm    float64 `json:"grad_norm"`
	PairsPS     float64 `json:"pairs_per_s"`
	Examples    int64   `json:"examples"`
	ElapsedS    float64 `json:"elapsed_s"`
}

// contrastiveEvalRecord is an "eval" line: held-out loss (in-batch
// negatives) and retrieval recall over all held-out pairs.
type contrastiveEvalRecord struct {
	Kind      string  `json:"kind"`
	Step      int     `json:"step"`
	Epoch     int     `json:"epoch"`
	EvalLoss  float64 `json:"eval_loss"`
	Pairs     int     `json:"eval_pairs"`
	I2TR1     float64 `json:"i2t_r1"`
	I2TR5     float64 `json:"i2t_r5"`
	I2TR10    float64 `json:"i2t_r10"`
	T2IR1     float64 `json:"t2i_r1"`
	T2IR5     float64 `json:"t2i_r5"`
	T2IR10    float64 `json:"t2i_r10"`
	ChanceR1  float64 `json:"chance_r1"`
	ChanceR5  float64 `json:"chance_r5"`
	ChanceR10 float64 `json:"chance_r10"`
}

func evalRecord(step, epoch int, loss float64, r Retrieval) contrastiveEvalRecord {
	rec := contrastiveEvalRecord{Kind: "eval", Step: step, Epoch: epoch, EvalLoss: loss, Pairs: r.Pairs}
	rec.I2TR1, rec.T2IR1 = r.At(1)
	rec.I2TR5, rec.T2IR5 = r.At(5)
	rec.I2TR10, rec.T2IR10 = r.At(10)
	for i, k := range r.Ks {
		switch k {
		case 1:
			rec.ChanceR1 = r.Chance[i]
		case 5:
			rec.ChanceR5 = r.Chance[i]
		case 10:
			rec.ChanceR10 = r.Chance[i]
		}
	}
	return rec
}

// writeRecord appends any record to metrics.jsonl and flushes it.
func (m *metricsWriter) writeRecord(r any) error {
	if err := m.enc.Encode(r); err != nil {
		return err
	}
	return m.w.Flush()
}

// contrastiveCurves reads a contrastive metrics.jsonl.
func contrastiveCurves(path string) (train []contrastiveTrainRecord, eval []contrastiveEvalRecord, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var kind struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal([]byte(line), &kind); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		switch kind.Kind {
		case "train":
			var r contrastiveTrainRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
			}
			train = append(train, r)
		case "eval":
			var r contrastiveEvalRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
			}
			eval = append(eval, r)
		}
	}
	return train, eval, nil
}

var (
	curveBlue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	curveRed    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	curveGreen  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	curveOrange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	curveGrey   = color.Gray{Y: 90}
)

// plotContrastive draws recall.svg/png (held-out recall@1 and @5 in both
// directions per update, with chance as dashed lines) and loss.svg/png
// (training and held-out InfoNCE loss), and returns both SVG paths.
func plotContrastive(metricsPath, outDir string) (recallSVG, lossSVG string, err error) {
	train, eval, err := contrastiveCurves(metricsPath)
	if err != nil {
		return "", "", err
	}
	rp := plot.New()
	rp.Title.Text = "held-out retrieval recall"
	rp.X.Label.Text = "update"
	rp.Y.Label.Text = "recall"
	rp.Y.Min, rp.Y.Max = 0, 1
	rp.Add(plotter.NewGrid())
	series := []struct {
		name   string
		col    color.Color
		dashed bool
		y      func(r contrastiveEvalRecord) float64
	}{
		{"image→text R@1", curveBlue, false, func(r contrastiveEvalRecord) float64 { return r.I2TR1 }},
		{"text→image R@1", curveRed, false, func(r contrastiveEvalRecord) float64 { return r.T2IR1 }},
		{"image→text R@5", curveGreen, false, func(r contrastiveEvalRecord) float64 { return r.I2TR5 }},
		{"text→image R@5", curveOrange, false, func(r contrastiveEvalRecord) float64 { return r.T2IR5 }},
		{"chance R@1", curveGrey, true, func(r contrastiveEvalRecord) float64 { return r.ChanceR1 }},
		{"chance R@5", curveGrey, true, func(r contrastiveEvalRecord) float64 { return r.ChanceR5 }},
	}
	if len(eval) > 0 {
		for i, s := range series {
			var xy plotter.XYs
			for _, r := range eval {
				xy = append(xy, plotter.XY{X: float64(r.Step), Y: s.y(r)})
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return "", "", err
			}
			l.Color = s.col
			l.Width = vg.Points(1.5)
			if s.dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(4 + float64(i))}
			}
			rp.Add(l)
			rp.Legend.Add(s.name, l)
		}
	}
	// Bottom right, above the chance lines: the curves rise from there.
	rp.Legend.Top, rp.Legend.Left = false, false
	rp.Legend.YOffs = vg.Centimeter
	recallSVG = filepath.Join(outDir, "recall.svg")
	if err := savePlot(rp, recallSVG, filepath.Join(outDir, "recall.png")); err != nil {
		return "", "", err
	}

	lp := plot.New()
	lp.Title.Text = "contrastive (InfoNCE) loss"
	lp.X.Label.Text = "update"
	lp.Y.Label.Text = "loss (nats)"
	lp.Add(plotter.NewGrid())
	var tr, ev plotter.XYs
	for _, r := range train {
		tr = append(tr, plotter.XY{X: float64(r.Step), Y: r.Loss})
	}
	for _, r := range eval {
		ev = append(ev, plotter.XY{X: float64(r.Step), Y: r.EvalLoss})
	}
	for _, s := range []struct {
		name string
		xy   plotter.XYs
		col  color.Color
	}{{"train", tr, curveBlue}, {"held-out", ev, curveRed}} {
		if len(s.xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.xy)
		if err != nil {
			return "", "", err
		}
		l.Color = s.col
		lp.Add(l)
		lp.Legend.Add(s.name, l)
	}
	lp.Legend.Top = true
	lossSVG = filepath.Join(outDir, "loss.svg")
	if err := savePlot(lp, lossSVG, filepath.Join(outDir, "loss.png")); err != nil {
		return "", "", err
	}
	return recallSVG, lossSVG, nil
}

func savePlot(p *plot.Plot, paths ...string) error {
	for _, path := range paths {
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}
