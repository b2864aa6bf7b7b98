package trainer

import (
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotLossCurve draws training and held-out loss per update from
// metrics.jsonl into loss.svg and loss.png, with the corpus's unigram
// entropy as a dashed reference line when the baseline is known, and
// returns the SVG's path.
func plotLossCurve(metricsPath, outDir string, baseline *Baseline) (string, error) {
	recs, err := readMetrics(metricsPath)
	if err != nil {
		return "", err
	}
	var train, eval plotter.XYs
	for _, r := range recs {
		switch r.Kind {
		case "train":
			train = append(train, plotter.XY{X: float64(r.Step), Y: r.Loss})
		case "eval":
			eval = append(eval, plotter.XY{X: float64(r.Step), Y: r.EvalLoss})
		}
	}
	p := plot.New()
	p.Title.Text = "masked-LM loss"
	p.X.Label.Text = "update"
	p.Y.Label.Text = "loss (nats)"
	p.Add(plotter.NewGrid())
	if len(train) > 0 {
		l, err := plotter.NewLine(train)
		if err != nil {
			return "", err
		}
		l.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
		p.Add(l)
		p.Legend.Add("train", l)
	}
	if len(eval) > 0 {
		l, err := plotter.NewLine(eval)
		if err != nil {
			return "", err
		}
		l.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
		l.Width = vg.Points(2)
		pts, err := plotter.NewScatter(eval)
		if err != nil {
			return "", err
		}
		pts.Color = l.Color
		p.Add(l, pts)
		p.Legend.Add("held-out", l)
	}
	if baseline != nil && baseline.UnigramEntropy > 0 && len(train) > 0 {
		ref := plotter.XYs{{X: train[0].X, Y: baseline.UnigramEntropy}, {X: train[len(train)-1].X, Y: baseline.UnigramEntropy}}
		l, err := plotter.NewLine(ref)
		if err != nil {
			return "", err
		}
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(4)}
		p.Add(l)
		p.Legend.Add("unigram entropy", l)
	}
	p.Legend.Top = true
	svg := filepath.Join(outDir, "loss.svg")
	for _, path := range []string{svg, filepath.Join(outDir, "loss.png")} {
		if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	return svg, nil
}
