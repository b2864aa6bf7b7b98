package trainer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Gradient checks of the contrastive model's operations, in float64 against
// central finite differences, as gradcheck_test.go does for the encoder's.

func TestPatchifyIsTheStridedConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	B, C, R, P, H := 2, 3, 8, 4, 5
	G := R / P
	pixels := make([]float32, B*C*R*R)
	for i := range pixels {
		pixels[i] = float32(rng.NormFloat64())
	}
	w, bias := randSlice(rng, H*C*P*P, 1), randSlice(rng, H, 1)
	patches := make([]float64, B*G*G*C*P*P)
	patchify(pixels, B, C, R, P, patches)
	got := make([]float64, B*G*G*H)
	linearForward(patches, B*G*G, C*P*P, w, bias, H, got)
	// Conv2d(C, H, kernel P, stride P), output flattened over (gy, gx).
	for b := 0; b < B; b++ {
		for gy := 0; gy < G; gy++ {
			for gx := 0; gx < G; gx++ {
				for h := 0; h < H; h++ {
					want := bias[h]
					for c := 0; c < C; c++ {
						for ky := 0; ky < P; ky++ {
							for kx := 0; kx < P; kx++ {
								px := float64(pixels[((b*C+c)*R+gy*P+ky)*R+gx*P+kx])
								want += w[((h*C+c)*P+ky)*P+kx] * px
							}
						}
					}
					g := got[((b*G+gy)*G+gx)*H+h]
					if math.Abs(g-want) > 1e-9 {
						t.Fatalf("image %d patch (%d,%d) channel %d: %g, convolution gives %g", b, gy, gx, h, g, want)
					}
				}
			}
		}
	}
}

func TestGradViTEmbedding(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	B, N, H := 2, 4, 3
	patch, cls, pos := randSlice(rng, B*N*H, 1), randSlice(rng, H, 1), randSlice(rng, (N+1)*H, 1)
	r := randSlice(rng, B*(N+1)*H, 1)
	out := make([]float64, len(r))
	loss := func() float64 { vitEmbeddingForward(patch, B, N, H, cls, pos, out); return dot(r, out) }
	dpatch, dcls, dpos := make([]float64, len(patch)), make([]float64, H), make([]float64, len(pos))
	vitEmbeddingBackward(r, B, N, H, dpatch, dcls, dpos)
	checkGrad(t, "dpatch", patch, dpatch, loss)
	checkGrad(t, "dcls", cls, dcls, loss)
	checkGrad(t, "dpos", pos, dpos, loss)
}

func TestGradPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	B, S, H := 3, 4, 5
	valid := []bool{true, true, true, true, true, true, false, false, true, false, false, false}
	for _, mode := range []string{PoolCLS, PoolMean} {
		hidden := randSlice(rng, B*S*H, 1)
		r := randSlice(rng, B*H, 1)
		out := make([]float64, B*H)
		loss := func() float64 { poolForward(mode, hidden, valid, B, S, H, out); return dot(r, out) }
		loss()
		dh := make([]float64, len(hidden))
		poolBackward(mode, r, valid, B, S, H, dh)
		checkGrad(t, mode+" dhidden", hidden, dh, loss)
		if mode == PoolMean {
			// The second sequence has two valid tokens: its output is their mean.
			for j := 0; j < H; j++ {
				want := (hidden[(1*S+0)*H+j] + hidden[(1*S+1)*H+j]) / 2
				if math.Abs(out[H+j]-want) > 1e-12 {
					t.Fatalf("mean pool: %g, want %g", out[H+j], want)
				}
			}
		}
	}
}

func TestGradProject(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	n, in, out := 4, 5, 3
	x, w := randSlice(rng, n*in, 1), randSlice(rng, out*in, 1)
	r := randSlice(rng, n*out, 1)
	y := make([]float64, n*out)
	loss := func() float64 { projectForward(x, n, in, w, out, y); return dot(r, y) }
	dx, dw := make([]float64, len(x)), make([]float64, len(w))
	projectBackward(x, n, in, w, out, r, dx, dw)
	checkGrad(t, "dx", x, dx, loss)
	checkGrad(t, "dW", w, dw, loss)
}

func TestGradL2Normalize(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	n, d := 4, 6
	x := randSlice(rng, n*d, 2)
	r := randSlice(rng, n*d, 1)
	y, norms := make([]float64, n*d), make([]float64, n)
	loss := func() float64 { l2NormalizeForward(x, n, d, y, norms); return dot(r, y) }
	loss()
	for i := 0; i < n; i++ {
		if nrm := math.Sqrt(dot(y[i*d:(i+1)*d], y[i*d:(i+1)*d])); math.Abs(nrm-1) > 1e-12 {
			t.Fatalf("row %d has norm %g after normalising", i, nrm)
		}
	}
	dx := make([]float64, len(x))
	l2NormalizeBackward(y, norms, n, d, r, dx)
	checkGrad(t, "dx", x, dx, loss)
}

// TestGradInfoNCE checks the queries, the keys (batch and queue rows) and
// the log of the logit scale.
func TestGradInfoNCE(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	B, K, D := 3, 5, 4
	q, k := randSlice(rng, B*D, 1), randSlice(rng, K*D, 1)
	logScale := []float64{1.3}
	const gradScale = 0.7
	logits, labels := make([]float64, B*K), make([]int32, B)
	loss := func() float64 {
		l, _, _ := infoNCE(q, B, D, k, K, math.Exp(logScale[0]), 0, logits, labels, nil, nil)
		return gradScale * l
	}
	dq, dk := make([]float64, len(q)), make([]float64, len(k))
	_, _, dS := infoNCE(q, B, D, k, K, math.Exp(logScale[0]), gradScale, logits, labels, dq, dk)
	checkGrad(t, "dq", q, dq, loss)
	checkGrad(t, "dk", k, dk, loss)
	checkGrad(t, "dlogit_scale", logScale, []float64{dS}, loss)

	// Perfectly separated embeddings at a large scale cost almost nothing
	// and rank every positive first.
	eye := []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
	l, correct, _ := infoNCE(eye, 3, 3, eye, 3, 100, 0, make([]float64, 9), make([]int32, 3), nil, nil)
	if l > 1e-40 || correct != 3 {
		t.Fatalf("separated: loss %g, %d correct", l, correct)
	}
	// Identical embeddings are chance: ln K.
	same := []float64{1, 0, 1, 0, 1, 0}
	l, _, _ = infoNCE(same, 3, 2, same, 3, 10, 0, make([]float64, 9), make([]int32, 3), nil, nil)
	if math.Abs(l-math.Log(3)) > 1e-12 {
		t.Fatalf("identical: loss %g, want ln 3", l)
	}
}

func TestMomentumUpdateIsAnEMA(t *testing.T) {
	online := []float64{1, 2, 3}
	mom := []float64{0, 0, 0}
	momentumUpdate(0.9, online, mom)
	momentumUpdate(0.9, online, mom)
	for i, v := range mom {
		want := online[i] * (1 - 0.9*0.9)
		if math.Abs(v-want) > 1e-12 {
			t.Fatalf("after two updates: %g, want %g", v, want)
		}
	}
}

// TestGradViTTower checks every parameter of a 2-layer ViT, through patch
// embedding, pre-LN blocks and the final LayerNorm on [CLS].
func TestGradViTTower(t *testing.T) {
	cfg := VisionConfig{ImageSize: 8, PatchSize: 4, NumChannels: 3, HiddenSize: 6, NumLayers: 2, NumHeads: 2, IntermediateSize: 10}
	v, err := newVisionTower[float64](cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range v.params.list {
		for i := range p.W {
			p.W[i] += 0.3 * math.Sin(float64(i*5+len(p.Name)))
		}
	}
	rng := rand.New(rand.NewPCG(33, 34))
	B := 2
	pixels := make([]float32, B*3*8*8)
	for i := range pixels {
		pixels[i] = float32(rng.NormFloat64())
	}
	r := randSlice(rng, B*cfg.HiddenSize, 1)
	loss := func() float64 { return dot(r, v.forward(pixels, B)) }
	loss()
	v.backward(r)
	for _, p := range v.params.list {
		checkGradQuiet(t, p.Name, p.W, append([]float64(nil), p.G...), loss)
	}
}
