package trainer

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Gradient checks: every kernel's backward is compared with central finite
// differences of its forward, in float64. Each check turns the op's output y
// into a scalar with fixed random weights r (loss = Σ r·y), so backward is
// fed dy = r and every output element is exercised.

const (
	fdStep = 1e-5
	fdTol  = 1e-6 // relative; central differences in float64 are ~1e-9 here
)

func randSlice(rng *rand.Rand, n int, scale float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64() * scale
	}
	return s
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// checkGrad perturbs every element of x, re-evaluates loss and compares the
// central difference with analytic.
func checkGrad(t *testing.T, name string, x, analytic []float64, loss func() float64) {
	t.Helper()
	worst := 0.0
	for i := range x {
		orig := x[i]
		x[i] = orig + fdStep
		up := loss()
		x[i] = orig - fdStep
		down := loss()
		x[i] = orig
		numeric := (up - down) / (2 * fdStep)
		rel := math.Abs(numeric-analytic[i]) / math.Max(1e-3, math.Max(math.Abs(numeric), math.Abs(analytic[i])))
		worst = math.Max(worst, rel)
		if rel > fdTol {
			t.Fatalf("%s[%d]: analytic %.10g, numeric %.10g (rel err %.3g)", name, i, analytic[i], numeric, rel)
		}
	}
	t.Logf("%s: %d elements, worst relative error %.2g", name, len(x), worst)
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n, in, out := 5, 7, 3
	x, w, b := randSlice(rng, n*in, 1), randSlice(rng, out*in, 1), randSlice(rng, out, 1)
	r := randSlice(rng, n*out, 1)
	y := make([]float64, n*out)
	loss := func() float64 { linearForward(x, n, in, w, b, out, y); return dot(r, y) }
	dx, dw, db := make([]float64, n*in), make([]float64, out*in), make([]float64, out)
	loss()
	linearBackward(x, n, in, w, out, r, dx, false, dw, db)
	checkGrad(t, "dx", x, dx, loss)
	checkGrad(t, "dW", w, dw, loss)
	checkGrad(t, "db", b, db, loss)

	// addDx accumulates instead of overwriting.
	dx2 := append([]float64(nil), dx...)
	linearBackward(x, n, in, w, out, r, dx2, true, make([]float64, out*in), make([]float64, out))
	for i := range dx {
		if math.Abs(dx2[i]-2*dx[i]) > 1e-12 {
			t.Fatalf("addDx: got %g want %g", dx2[i], 2*dx[i])
		}
	}
}

func TestGradLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, h := 4, 9
	x, gamma, beta := randSlice(rng, n*h, 2), randSlice(rng, h, 1), randSlice(rng, h, 1)
	r := randSlice(rng, n*h, 1)
	y, xhat, rstd := make([]float64, n*h), make([]float64, n*h), make([]float64, n)
	loss := func() float64 { layerNormForward(x, n, h, gamma, beta, y, xhat, rstd); return dot(r, y) }
	loss()
	dx, dg, db := make([]float64, n*h), make([]float64, h), make([]float64, h)
	layerNormBackward(r, n, h, gamma, xhat, rstd, dx, dg, db)
	checkGrad(t, "dx", x, dx, loss)
	checkGrad(t, "dgamma", gamma, dg, loss)
	checkGrad(t, "dbeta", beta, db, loss)
}

func TestGradGELUAndTanh(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randSlice(rng, 200, 2)
	r := randSlice(rng, 200, 1)
	y := make([]float64, len(x))
	loss := func() float64 { geluForward(x, y); return dot(r, y) }
	loss()
	dx := make([]float64, len(x))
	geluBackward(x, r, dx)
	checkGrad(t, "gelu dx", x, dx, loss)

	lossT := func() float64 { tanhForward(x, y); return dot(r, y) }
	lossT()
	tanhBackward(y, r, dx)
	checkGrad(t, "tanh dx", x, dx, lossT)
}

func TestGradAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sh := attentionShape{B: 2, S: 5, A: 2, Dh: 3}
	h := sh.hidden()
	n := sh.B * sh.S
	qkv := randSlice(rng, n*3*h, 1)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = true
	}
	valid[4], valid[8], valid[9] = false, false, false // padding at the ends
	r := randSlice(rng, n*h, 1)
	probs, ctx := make([]float64, sh.B*sh.A*sh.S*sh.S), make([]float64, n*h)
	loss := func() float64 { attentionForward(qkv, valid, sh, probs, ctx); return dot(r, ctx) }
	loss()
	for i, p := range probs {
		if j := i % sh.S; !valid[(i/(sh.A*sh.S*sh.S))*sh.S+j] && p != 0 {
			t.Fatalf("padding key %d got probability %g", j, p)
		}
	}
	dqkv := make([]float64, len(qkv))
	attentionBackward(qkv, probs, sh, r, dqkv)
	checkGrad(t, "dqkv", qkv, dqkv, loss)
}

func TestGradEmbedding(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vocab, seq, h := 6, 4, 3
	ids := []int32{2, 0, 5, 5, 1, 2, 0, 3}
	types := []int32{0, 0, 1, 1, 0, 1, 1, 1}
	word, pos, typ := randSlice(rng, vocab*h, 1), randSlice(rng, seq*h, 1), randSlice(rng, 2*h, 1)
	r := randSlice(rng, len(ids)*h, 1)
	out := make([]float64, len(ids)*h)
	loss := func() float64 { embeddingForward(ids, types, seq, h, word, pos, typ, out); return dot(r, out) }
	dw, dp, dt := make([]float64, len(word)), make([]float64, len(pos)), make([]float64, len(typ))
	const noPad = -1
	embeddingBackward(ids, types, seq, h, r, noPad, dw, dp, dt)
	checkGrad(t, "dword", word, dw, loss)
	checkGrad(t, "dpos", pos, dp, loss)
	checkGrad(t, "dtype", typ, dt, loss)

	// The padding row receives nothing through the lookup.
	clear(dw)
	embeddingBackward(ids, types, seq, h, r, 0, dw, make([]float64, len(pos)), make([]float64, len(typ)))
	for j := 0; j < h; j++ {
		if dw[j] != 0 {
			t.Fatalf("padding row gradient %g", dw[j])
		}
	}
}

func TestGradCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m, v := 4, 7
	logits := randSlice(rng, m*v, 2)
	labels := []int32{3, 0, 6, 3}
	scale := 1 / float64(m)
	loss := func() float64 {
		work := append([]float64(nil), logits...)
		l, _ := softmaxCrossEntropy(work, m, v, labels, scale)
		return l * scale
	}
	grad := append([]float64(nil), logits...)
	softmaxCrossEntropy(grad, m, v, labels, scale)
	checkGrad(t, "dlogits", logits, grad, loss)
}

func TestCrossEntropyValues(t *testing.T) {
	// Uniform logits over v classes cost ln v per row; arg-max ties resolve to
	// the first class.
	logits := make([]float32, 2*4)
	loss, correct := softmaxCrossEntropy(logits, 2, 4, []int32{0, 2}, 0.5)
	if math.Abs(loss-2*math.Log(4)) > 1e-6 || correct != 1 {
		t.Fatalf("loss %g correct %d", loss, correct)
	}
}
