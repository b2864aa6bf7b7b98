package trainer

import "math"

// The operations the contrastive (CLIP / WenLan) model adds to the encoder's:
// cutting images into patches, the ViT token embeddings, pooling a text
// encoder's output, projections without bias, L2 normalisation and the
// InfoNCE loss with a learnable temperature. Each forward has its backward
// beside it; contrastive_ops_test.go checks them against finite differences
// in float64, as gradcheck_test.go does for the encoder's.

// patchify cuts B images [C, R, R] (channel-major, rows of R pixels) into
// B·N patches of C·P·P values, N = (R/P)², patches in row-major grid order and
// each patch laid out (channel, row, column). That is the flattening of a
// Conv2d weight [H, C, P, P], so a linear layer over the patches with that
// weight computes ViT's stride-P convolution. Images are inputs, so there is
// no backward.
func patchify[T Float](pixels []float32, B, C, R, P int, patches []T) {
	G := R / P
	N := G * G
	cpp := C * P * P
	parallelFor(B*N, func(lo, hi int) {
		for bn := lo; bn < hi; bn++ {
			b, n := bn/N, bn%N
			gy, gx := n/G, n%G
			out := patches[bn*cpp : (bn+1)*cpp]
			i := 0
			for c := 0; c < C; c++ {
				img := pixels[(b*C+c)*R*R:]
				for py := 0; py < P; py++ {
					row := img[(gy*P+py)*R+gx*P:]
					for px := 0; px < P; px++ {
						out[i] = T(row[px])
						i++
					}
				}
			}
		}
	})
}

// vitEmbeddingForward lays out the token sequence of each image: the learned
// [CLS] token, then the N projected patches, plus learned position
// embeddings (T = N+1 positions): out[b,0] = cls + pos[0],
// out[b,1+n] = patch[b,n] + pos[1+n].
func vitEmbeddingForward[T Float](patchEmb []T, B, N, H int, cls, pos, out []T) {
	Tn := N + 1
	for b := 0; b < B; b++ {
		o := out[b*Tn*H : (b+1)*Tn*H]
		for j := 0; j < H; j++ {
			o[j] = cls[j] + pos[j]
		}
		src := patchEmb[b*N*H : (b+1)*N*H]
		for i, v := range src {
			o[H+i] = v + pos[H+i]
		}
	}
}

// vitEmbeddingBackward adds to dcls and dpos and writes dpatch.
func vitEmbeddingBackward[T Float](dout []T, B, N, H int, dpatch, dcls, dpos []T) {
	Tn := N + 1
	for b := 0; b < B; b++ {
		d := dout[b*Tn*H : (b+1)*Tn*H]
		for j := 0; j < H; j++ {
			dcls[j] += d[j]
		}
		for i, g := range d {
			dpos[i] += g
		}
		copy(dpatch[b*N*H:(b+1)*N*H], d[H:])
	}
}

// Pooling turns a text encoder's [B·S, H] output into one vector per
// sequence.
const (
	// PoolCLS takes the [CLS] position (the first token), as BERT's pooler
	// and CLIP's text tower (at its end-of-text token) do.
	PoolCLS = "cls"
	// PoolMean averages the non-padding positions (sentence-transformers).
	PoolMean = "mean"
)

// poolForward writes out [B, H] from hidden [B·S, H].
func poolForward[T Float](mode string, hidden []T, valid []bool, B, S, H int, out []T) {
	for b := 0; b < B; b++ {
		o := out[b*H : (b+1)*H]
		if mode == PoolCLS {
			copy(o, hidden[b*S*H:b*S*H+H])
			continue
		}
		clear(o)
		n := 0
		for s := 0; s < S; s++ {
			if !valid[b*S+s] {
				continue
			}
			n++
			row := hidden[(b*S+s)*H : (b*S+s+1)*H]
			for j, v := range row {
				o[j] += v
			}
		}
		if n > 0 {
			inv := 1 / T(n)
			for j := range o {
				o[j] *= inv
			}
		}
	}
}

// poolBackward writes dhidden (every position: zero where nothing was
// pooled) from dout.
func poolBackward[T Float](mode string, dout []T, valid []bool, B, S, H int, dhidden []T) {
	clear(dhidden[:B*S*H])
	for b := 0; b < B; b++ {
		d := dout[b*H : (b+1)*H]
		if mode == PoolCLS {
			copy(dhidden[b*S*H:b*S*H+H], d)
			continue
		}
		n := 0
		for s := 0; s < S; s++ {
			if valid[b*S+s] {
				n++
			}
		}
		if n == 0 {
			continue
		}
		inv := 1 / T(n)
		for s := 0; s < S; s++ {
			if !valid[b*S+s] {
				continue
			}
			row := dhidden[(b*S+s)*H : (b*S+s+1)*H]
			for j, g := range d {
				row[j] = g * inv
			}
		}
	}
}

// projectForward computes y[n, out] = x[n, in]·Wᵀ: CLIP's text_projection and
// visual_projection have no bias.
func projectForward[T Float](x []T, n, in int, w []T, out int, y []T) {
	gemm(false, true, n, out, in, 1, x, in, w, in, 0, y, out)
}

// projectBackward adds dW += dyᵀ·x and writes dx = dy·W.
func projectBackward[T Float](x []T, n, in int, w []T, out int, dy, dx, dw []T) {
	gemm(true, false, out, in, n, 1, dy, out, x, in, 1, dw, in)
	gemm(false, false, n, in, out, 1, dy, out, w, in, 0, dx, in)
}

// l2NormEps is the floor of a norm, as torch.nn.functional.normalize has.
const l2NormEps = 1e-12

// l2NormalizeForward writes y = x / ‖x‖ row by row and keeps the norms.
func l2NormalizeForward[T Float](x []T, n, d int, y, norms []T) {
	for r := 0; r < n; r++ {
		row := x[r*d : (r+1)*d]
		var sq float64
		for _, v := range row {
			sq += float64(v) * float64(v)
		}
		nrm := max(math.Sqrt(sq), l2NormEps)
		norms[r] = T(nrm)
		inv := T(1 / nrm)
		out := y[r*d : (r+1)*d]
		for j, v := range row {
			out[j] = v * inv
		}
	}
}

// l2NormalizeBackward writes dx = (dy − y·(y·dy)) / ‖x‖.
func l2NormalizeBackward[T Float](y, norms []T, n, d int, dy, dx []T) {
	for r := 0; r < n; r++ {
		yr, gr := y[r*d:(r+1)*d], dy[r*d:(r+1)*d]
		var dot float64
		for j := range yr {
			dot += float64(yr[j]) * float64(gr[j])
		}
		inv := 1 / float64(norms[r])
		out := dx[r*d : (r+1)*d]
		for j := range yr {
			out[j] = T((float64(gr[j]) - float64(yr[j])*dot) * inv)
		}
	}
}

// infoNCE is one direction of the contrastive loss: B queries [B, D] against
// K ≥ B keys [K, D], logits = scale·q·kᵀ, where query i's positive is key i
// and every other key (the rest of the batch, then a queue) is a negative.
// It returns the mean cross-entropy over the queries and how many queries
// ranked their own key first. With gradScale ≠ 0 it adds
// gradScale·∂loss/∂q to dq, gradScale·∂loss/∂k to dk (nil: the keys get no
// gradient, as a momentum encoder's do not) and returns
// gradScale·∂loss/∂log(scale), the gradient of CLIP's logit_scale parameter.
// logits [B, K] and labels [B] are scratch.
func infoNCE[T Float](q []T, B, D int, k []T, K int, scale float64, gradScale float64, logits []T, labels []int32, dq, dk []T) (loss float64, correct int, dLogScale float64) {
	gemm(false, true, B, K, D, T(scale), q, D, k, D, 0, logits, K)
	for i := range labels[:B] {
		labels[i] = int32(i)
	}
	var scaled []float64
	if gradScale != 0 {
		// ∂loss/∂log(scale) = Σ ∂loss/∂logit · logit: keep the logits.
		scaled = make([]float64, B*K)
		for i, v := range logits[:B*K] {
			scaled[i] = float64(v)
		}
	}
	sum, correct := softmaxCrossEntropy(logits[:B*K], B, K, labels[:B], gradScale/float64(B))
	loss = sum / float64(B)
	if gradScale == 0 {
		return loss, correct, 0
	}
	// logits now holds G = ∂(gradScale·loss)/∂logits.
	for i, g := range logits[:B*K] {
		dLogScale += float64(g) * scaled[i]
	}
	gemm(false, false, B, D, K, T(scale), logits, K, k, D, 1, dq, D)
	if dk != nil {
		gemm(true, false, K, D, B, T(scale), logits, K, q, D, 1, dk, D)
	}
	return loss, correct, dLogScale
}

// momentumUpdate moves a momentum encoder's weights towards the online ones:
// θm ← m·θm + (1−m)·θ (MoCo, WenLan/BriVL, ALBEF).
func momentumUpdate[T Float](m float64, online, momentum []T) {
	parallelFor(len(online), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			momentum[i] = T(m*float64(momentum[i]) + (1-m)*float64(online[i]))
		}
	})
}
