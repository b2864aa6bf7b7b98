package trainer

import (
	"math"
	"testing"
)

func TestScheduleShapes(t *testing.T) {
	c := OptimizerConfig{LR: 1, WarmupSteps: 10, TotalSteps: 110, Schedule: "linear"}
	cases := []struct {
		schedule string
		done     int
		want     float64
	}{
		{"linear", 0, 0}, {"linear", 5, 0.5}, {"linear", 10, 1}, {"linear", 60, 0.5}, {"linear", 110, 0}, {"linear", 500, 0},
		{"cosine", 10, 1}, {"cosine", 60, 0.5}, {"cosine", 35, 0.5 * (1 + math.Cos(math.Pi/4))}, {"cosine", 110, 0},
		{"constant", 3, 0.3}, {"constant", 100, 1},
	}
	for _, tc := range cases {
		c.Schedule = tc.schedule
		if got := c.LRAt(tc.done); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s after %d: lr %g, want %g", tc.schedule, tc.done, got, tc.want)
		}
	}
}

// TestAdamWMatchesReference checks two updates of one weight and one bias
// against values worked out by hand from torch.optim.AdamW's update rule.
func TestAdamWMatchesReference(t *testing.T) {
	var s paramSet[float64]
	w := s.add("w", kindWeight, 1)
	b := s.add("b", kindBias, 1)
	w.W[0], b.W[0] = 1, 1
	cfg := OptimizerConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5, Schedule: "constant"}
	o, err := NewAdamW(cfg, s.list)
	if err != nil {
		t.Fatal(err)
	}
	w.G[0], b.G[0] = 2, 2
	o.Step(s.list)
	// Step 1: m̂ = g, v̂ = g², so the Adam step is lr·sign(g) (up to eps);
	// the weight also decays by lr·wd first.
	wantW := 1*(1-0.1*0.5) - 0.1*2/(2+1e-8)
	wantB := 1 - 0.1*2/(2+1e-8)
	if math.Abs(w.W[0]-wantW) > 1e-12 || math.Abs(b.W[0]-wantB) > 1e-12 {
		t.Fatalf("after step 1: w %.15g (want %.15g), b %.15g (want %.15g)", w.W[0], wantW, b.W[0], wantB)
	}
	w.G[0] = -1
	o.Step(s.list)
	m := 0.9*0.2 + 0.1*-1
	v := 0.999*0.004 + 0.001*1
	mh, vh := m/(1-0.81), v/(1-0.999*0.999)
	wantW = wantW*(1-0.05) - 0.1*mh/(math.Sqrt(vh)+1e-8)
	if math.Abs(w.W[0]-wantW) > 1e-12 {
		t.Fatalf("after step 2: w %.15g, want %.15g", w.W[0], wantW)
	}
}

func TestClipping(t *testing.T) {
	var s paramSet[float64]
	p := s.add("w", kindWeight, 2)
	p.G[0], p.G[1] = 3, 4
	o, _ := NewAdamW(OptimizerConfig{LR: 1, Beta1: 0, Beta2: 0.5, Eps: 1e-8, Schedule: "constant", ClipNorm: 1}, s.list)
	_, norm := o.Step(s.list)
	if norm != 5 {
		t.Fatalf("norm %g, want 5", norm)
	}
	// With β1 = 0 the first moment is the clipped gradient itself.
	if m := values[float64](o.m[0]); math.Abs(m[0]-0.6) > 1e-6 || math.Abs(m[1]-0.8) > 1e-6 {
		t.Fatalf("clipped gradient %v, want [0.6 0.8]", m)
	}
}

func TestOptimizerValidation(t *testing.T) {
	good := DefaultOptimizer(100)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(*OptimizerConfig){
		"lr":       func(c *OptimizerConfig) { c.LR = 0 },
		"beta":     func(c *OptimizerConfig) { c.Beta2 = 1 },
		"schedule": func(c *OptimizerConfig) { c.Schedule = "step" },
		"warmup":   func(c *OptimizerConfig) { c.WarmupSteps = -1 },
	} {
		c := good
		spoil(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestOverfitOneBatch trains the float32 model on one fixed batch until the
// masked-LM loss is near zero: forward, backward and AdamW together learn.
func TestOverfitOneBatch(t *testing.T) {
	cfg := TinyConfig(200)
	cfg.HiddenSize, cfg.IntermediateSize = 64, 128
	m, err := NewModel[float32](cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	b := syntheticBatch(4, 32, cfg.VocabSize, 9)
	oc := OptimizerConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Schedule: "constant", ClipNorm: 1}
	o, _ := NewAdamW(oc, m.Params())
	var first, last Result
	for step := 0; step < 150; step++ {
		m.ZeroGrad()
		r, err := m.ForwardBackward(b, 1)
		if err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = r
		}
		last = r
		o.Step(m.Params())
	}
	t.Logf("loss %.3f -> %.4f, accuracy %d/%d", first.MLMLoss, last.MLMLoss, last.MLMCorrect, last.MLMCount)
	if last.MLMLoss > 0.05 || last.MLMCorrect != last.MLMCount {
		t.Fatalf("did not overfit: loss %.3f -> %.4f, %d/%d correct", first.MLMLoss, last.MLMLoss, last.MLMCorrect, last.MLMCount)
	}
}
