package trainer

import (
	"math"
	"testing"
)

func tinyTestConfig(nsp bool) ModelConfig {
	return ModelConfig{VocabSize: 11, HiddenSize: 8, NumLayers: 2, NumHeads: 2, IntermediateSize: 12, MaxPositions: 6, TypeVocabSize: 2, PadTokenID: 0, NSP: nsp}
}

// tinyBatch has two sequences of 5, the second padded, with segments, masked
// positions and NSP labels.
func tinyBatch() *Batch {
	return &Batch{
		B: 2, S: 5,
		InputIDs:     []int32{1, 4, 3, 7, 2, 1, 9, 2, 0, 0},
		TokenTypes:   []int32{0, 0, 0, 1, 1, 0, 0, 0, 0, 0},
		Valid:        []bool{true, true, true, true, true, true, true, true, false, false},
		MaskedPos:    []int32{1, 3, 6},
		MaskedLabels: []int32{5, 8, 10},
		NSPLabels:    []int32{1, 0},
	}
}

// TestWholeModelGradient checks every parameter of a 2-layer model with the
// MLM and NSP heads against finite differences of the full loss, in float64.
func TestWholeModelGradient(t *testing.T) {
	m, err := NewModel[float64](tinyTestConfig(true), 42)
	if err != nil {
		t.Fatal(err)
	}
	// Larger weights than BERT's 0.02 so every path carries a visible signal.
	for _, p := range m.Params() {
		for i := range p.W {
			p.W[i] += 0.3 * math.Sin(float64(i*7+len(p.Name)))
		}
	}
	b := tinyBatch()
	m.ZeroGrad()
	if _, err := m.ForwardBackward(b, 1); err != nil {
		t.Fatal(err)
	}
	loss := func() float64 {
		r, err := m.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		return r.Loss()
	}
	checked := 0
	for _, p := range m.Params() {
		analytic := append([]float64(nil), p.G...)
		x := p.W
		if p == m.wordEmb {
			// The [PAD] row gets gradient only through the tied decoder (torch's
			// padding_idx), so a finite difference, which also moves the lookup,
			// differs there by design; check the other rows.
			h := m.Config.HiddenSize
			pad := m.Config.PadTokenID
			x = p.W[(pad+1)*h:]
			analytic = analytic[(pad+1)*h:]
		}
		checkGradQuiet(t, p.Name, x, analytic, loss)
		checked += len(x)
	}
	t.Logf("checked %d parameter values of %d", checked, m.NumParams())
}

func checkGradQuiet(t *testing.T, name string, x, analytic []float64, loss func() float64) {
	t.Helper()
	for i := range x {
		orig := x[i]
		x[i] = orig + fdStep
		up := loss()
		x[i] = orig - fdStep
		down := loss()
		x[i] = orig
		numeric := (up - down) / (2 * fdStep)
		rel := math.Abs(numeric-analytic[i]) / math.Max(1e-3, math.Max(math.Abs(numeric), math.Abs(analytic[i])))
		if rel > fdTol {
			t.Fatalf("%s[%d]: analytic %.10g, numeric %.10g (rel err %.3g)", name, i, analytic[i], numeric, rel)
		}
	}
}

func TestGradientsAccumulateWithScale(t *testing.T) {
	m, _ := NewModel[float64](tinyTestConfig(false), 1)
	b := tinyBatch()
	b.NSPLabels = nil
	m.ZeroGrad()
	m.ForwardBackward(b, 1)
	once := append([]float64(nil), m.wordEmb.G...)
	m.ZeroGrad()
	m.ForwardBackward(b, 0.5)
	m.ForwardBackward(b, 0.5)
	for i := range once {
		if math.Abs(once[i]-m.wordEmb.G[i]) > 1e-12 {
			t.Fatalf("two half-scaled passes %g != one pass %g", m.wordEmb.G[i], once[i])
		}
	}
}

func TestInitialLossIsLogVocab(t *testing.T) {
	cfg := TinyConfig(1000)
	m, err := NewModel[float32](cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	b := syntheticBatch(4, 16, cfg.VocabSize, 3)
	r, err := m.Forward(b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.MLMLoss-math.Log(1000)) > 0.2 {
		t.Fatalf("initial loss %.3f, want about ln 1000 = %.3f", r.MLMLoss, math.Log(1000))
	}
}

func TestBatchValidation(t *testing.T) {
	m, _ := NewModel[float32](tinyTestConfig(false), 1)
	cases := map[string]func(b *Batch){
		"id out of vocab":    func(b *Batch) { b.InputIDs[2] = 11 },
		"negative id":        func(b *Batch) { b.InputIDs[0] = -1 },
		"bad segment":        func(b *Batch) { b.TokenTypes[1] = 2 },
		"label out of vocab": func(b *Batch) { b.MaskedLabels[0] = 99 },
		"position past end":  func(b *Batch) { b.MaskedPos[0] = 10 },
		"too long":           func(b *Batch) { b.S, b.B = 10, 1 },
		"nsp label 2":        func(b *Batch) { b.NSPLabels[0] = 2 },
	}
	for name, spoil := range cases {
		b := tinyBatch()
		spoil(b)
		if _, err := m.Forward(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
