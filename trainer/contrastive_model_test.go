package trainer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func tinyContrastiveTestConfig(pool string, queue int, momentum float64) ContrastiveConfig {
	return ContrastiveConfig{
		Text:          ModelConfig{VocabSize: 11, HiddenSize: 8, NumLayers: 2, NumHeads: 2, IntermediateSize: 12, MaxPositions: 6, TypeVocabSize: 2},
		Vision:        VisionConfig{ImageSize: 8, PatchSize: 4, NumChannels: 3, HiddenSize: 6, NumLayers: 2, NumHeads: 2, IntermediateSize: 10},
		ProjectionDim: 5, Pool: pool, InitTemperature: 0.5, MaxLogitScale: 100,
		Queue: queue, Momentum: momentum,
	}
}

// tinyPairBatch has three pairs; captions [CLS] w… [SEP], the last padded.
func tinyPairBatch(seed uint64) *PairBatch {
	rng := rand.New(rand.NewPCG(seed, 3))
	text := &Batch{B: 3, S: 5,
		InputIDs: []int32{1, 4, 3, 7, 2, 1, 9, 5, 6, 2, 1, 8, 2, 0, 0},
		Valid:    []bool{true, true, true, true, true, true, true, true, true, true, true, true, true, false, false},
	}
	pixels := make([]float32, 3*3*8*8)
	for i := range pixels {
		pixels[i] = float32(rng.NormFloat64())
	}
	return &PairBatch{B: 3, Text: text, Pixels: pixels}
}

// perturbed makes weights larger than their initialisation, so every path
// carries a visible signal in the finite differences.
func perturbed(m *ContrastiveModel[float64]) {
	for _, p := range m.Params() {
		if p == m.logitScale {
			continue
		}
		for i := range p.W {
			p.W[i] += 0.3 * math.Sin(float64(i*7+len(p.Name)))
		}
	}
}

// TestWholeContrastiveModelGradient checks every trainable parameter of a
// tiny dual encoder (2-layer BERT, 2-layer ViT, projections, logit scale)
// against finite differences of the symmetric InfoNCE loss, in float64: with
// [CLS] and with mean pooling (keys are the other tower's embeddings, so
// both sides of every logit get gradient), and with the momentum encoder and
// a partly filled queue (keys are constants of the online weights).
func TestWholeContrastiveModelGradient(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pool     string
		queue    int
		momentum float64
	}{
		{"cls", PoolCLS, 0, 0},
		{"mean", PoolMean, 0, 0},
		{"momentum+queue", PoolCLS, 4, 0.9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewContrastiveModel[float64](tinyContrastiveTestConfig(tc.pool, tc.queue, tc.momentum), 42)
			if err != nil {
				t.Fatal(err)
			}
			perturbed(m)
			if m.mom != nil {
				// Fill part of the queue with the keys of another batch and move
				// the momentum weights away from the online ones.
				if _, err := m.TrainStep(tinyPairBatch(9), 0); err != nil {
					t.Fatal(err)
				}
				for _, p := range m.mom.params {
					for i := range p.W {
						p.W[i] += 0.1 * math.Cos(float64(i))
					}
				}
				if m.mom.filled != 3 {
					t.Fatalf("queue holds %d keys after one batch of 3", m.mom.filled)
				}
			}
			b := tinyPairBatch(1)
			m.ZeroGrad()
			res, err := m.ForwardBackward(b, 1)
			if err != nil {
				t.Fatal(err)
			}
			if tc.momentum > 0 && res.Keys != 3+3 {
				t.Fatalf("%d keys per query, want the batch's 3 and 3 queued", res.Keys)
			}
			loss := func() float64 {
				r, err := m.ForwardBackward(b, 0)
				if err != nil {
					t.Fatal(err)
				}
				return r.Loss
			}
			if l := loss(); math.Abs(l-res.Loss) > 1e-12 {
				t.Fatalf("the loss is not a pure function of the weights: %g then %g", res.Loss, l)
			}
			checked := 0
			for _, p := range m.Params() {
				checkGradQuiet(t, p.Name, p.W, append([]float64(nil), p.G...), loss)
				checked += p.Size()
			}
			if m.logitScale.G[0] == 0 {
				t.Fatal("logit_scale got no gradient")
			}
			t.Logf("checked %d parameter values, loss %.4f", checked, res.Loss)
		})
	}
}

// TestTextTowerMatchesMLMEncoder: the text tower's encoder pass gives
// bit-for-bit the hidden states of the masked-LM model's.
func TestTextTowerMatchesMLMEncoder(t *testing.T) {
	m, err := NewModel[float32](tinyTestConfig(false), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := tinyBatch()
	b.NSPLabels = nil
	if _, err := m.Forward(b); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), m.ws.hidden[len(m.layers)]...)
	got, err := m.encode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hidden[%d]: tower %g, masked-LM encoder %g", i, got[i], want[i])
		}
	}
}

func TestContrastiveParamNames(t *testing.T) {
	m, err := NewContrastiveModel[float32](tinyContrastiveTestConfig(PoolCLS, 0, 0), 1)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range m.Params() {
		if names[p.Name] {
			t.Fatalf("duplicate parameter %s", p.Name)
		}
		names[p.Name] = true
		if !strings.HasPrefix(p.Name, "text_model.") && !strings.HasPrefix(p.Name, "vision_model.") &&
			p.Name != "visual_projection.weight" && p.Name != "text_projection.weight" && p.Name != "logit_scale" {
			t.Errorf("unexpected parameter %s", p.Name)
		}
	}
	for _, want := range []string{
		"text_model.embeddings.word_embeddings.weight",
		"text_model.encoder.layer.1.attention.self.query.weight",
		"text_model.encoder.layer.1.output.LayerNorm.bias",
		"vision_model.embeddings.cls_token",
		"vision_model.embeddings.patch_embeddings.projection.weight",
		"vision_model.encoder.layer.0.attention.attention.value.bias",
		"vision_model.encoder.layer.1.layernorm_after.weight",
		"vision_model.layernorm.bias",
	} {
		if !names[want] {
			t.Errorf("no parameter %s", want)
		}
	}
	if s := m.LogitScale(); math.Abs(s-2) > 1e-6 {
		t.Errorf("logit scale %g, want 1/τ = 2", s)
	}
	m.logitScale.W[0] = 9
	m.ClampLogitScale()
	if s := m.LogitScale(); math.Abs(s-100) > 1e-3 {
		t.Errorf("clamped logit scale %g, want 100", s)
	}
}

func TestContrastiveConfigErrors(t *testing.T) {
	for name, spoil := range map[string]func(c *ContrastiveConfig){
		"queue without momentum": func(c *ContrastiveConfig) { c.Queue = 8 },
		"momentum 1":             func(c *ContrastiveConfig) { c.Momentum = 1 },
		"pool max":               func(c *ContrastiveConfig) { c.Pool = "max" },
		"zero temperature":       func(c *ContrastiveConfig) { c.InitTemperature = 0 },
		"patch not dividing":     func(c *ContrastiveConfig) { c.Vision.PatchSize = 3 },
		"heads not dividing":     func(c *ContrastiveConfig) { c.Vision.NumHeads = 4 },
		"no projection":          func(c *ContrastiveConfig) { c.ProjectionDim = 0 },
		"text heads":             func(c *ContrastiveConfig) { c.Text.NumHeads = 3 },
	} {
		c := tinyContrastiveTestConfig(PoolCLS, 0, 0)
		spoil(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m, _ := NewContrastiveModel[float32](tinyContrastiveTestConfig(PoolCLS, 0, 0), 1)
	b := tinyPairBatch(1)
	b.Pixels = b.Pixels[:10]
	if _, err := m.Forward(b); err == nil {
		t.Error("short pixel buffer accepted")
	}
	b = tinyPairBatch(1)
	b.Text.InputIDs[3] = 99
	if _, err := m.Forward(b); err == nil {
		t.Error("token outside the vocabulary accepted")
	}
}
