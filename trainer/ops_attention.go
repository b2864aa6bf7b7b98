package trainer

import "math"

// attentionShape describes a batch for multi-head self-attention: B sequences
// of S tokens, A heads of Dh dimensions (hidden H = A·Dh).
type attentionShape struct {
	B, S, A, Dh int
}

func (s attentionShape) hidden() int { return s.A * s.Dh }

// attentionForward runs scaled dot-product attention for every sequence and
// head. qkv is the fused projection [B·S, 3H] (queries | keys | values); each
// head's Q, K and V are addressed in place through the leading dimension 3H,
// so no transposes or copies are made. keyValid[b·S+j] is false for padding:
// those keys get zero probability, which is what adding BERT's large negative
// mask does. probs [B·A, S, S] is kept for backward; ctx [B·S, H] receives
// the per-head outputs side by side, as the heads are concatenated in BERT.
func attentionForward[T Float](qkv []T, keyValid []bool, sh attentionShape, probs, ctx []T) {
	h := sh.hidden()
	ld := 3 * h
	S := sh.S
	scale := T(1 / math.Sqrt(float64(sh.Dh)))
	parallelFor(sh.B*sh.A, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, head := bh/sh.A, bh%sh.A
			base := b * S * ld
			q := qkv[base+head*sh.Dh:]
			k := qkv[base+h+head*sh.Dh:]
			v := qkv[base+2*h+head*sh.Dh:]
			p := probs[bh*S*S : (bh+1)*S*S]
			gemm(false, true, S, S, sh.Dh, scale, q, ld, k, ld, 0, p, S)
			valid := keyValid[b*S : (b+1)*S]
			for i := 0; i < S; i++ {
				maskedSoftmaxRow(p[i*S:(i+1)*S], valid)
			}
			gemm(false, false, S, sh.Dh, S, 1, p, S, v, ld, 0, ctx[b*S*h+head*sh.Dh:], h)
		}
	})
}

// maskedSoftmaxRow replaces row with softmax over the valid entries and 0
// elsewhere (all 0 when no key is valid).
func maskedSoftmaxRow[T Float](row []T, valid []bool) {
	maxV, found := T(0), false
	for j, v := range row {
		if valid[j] && (!found || v > maxV) {
			maxV, found = v, true
		}
	}
	if !found {
		clear(row)
		return
	}
	var sum float64
	for j, v := range row {
		if !valid[j] {
			row[j] = 0
			continue
		}
		e := expT(v - maxV)
		row[j] = e
		sum += float64(e)
	}
	inv := T(1 / sum)
	for j := range row {
		row[j] *= inv
	}
}

// attentionBackward writes dqkv [B·S, 3H] from dctx [B·S, H]:
//
//	dV = Pᵀ·dC,  dP = dC·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale,
//	dQ = dS·K,   dK = dSᵀ·Q.
func attentionBackward[T Float](qkv, probs []T, sh attentionShape, dctx, dqkv []T) {
	h := sh.hidden()
	ld := 3 * h
	S := sh.S
	scale := T(1 / math.Sqrt(float64(sh.Dh)))
	parallelFor(sh.B*sh.A, func(lo, hi int) {
		dp := make([]T, S*S)
		for bh := lo; bh < hi; bh++ {
			b, head := bh/sh.A, bh%sh.A
			base := b * S * ld
			off := head * sh.Dh
			p := probs[bh*S*S : (bh+1)*S*S]
			dc := dctx[b*S*h+off:]
			// dV
			gemm(true, false, S, sh.Dh, S, 1, p, S, dc, h, 0, dqkv[base+2*h+off:], ld)
			// dP
			gemm(false, true, S, S, sh.Dh, 1, dc, h, qkv[base+2*h+off:], ld, 0, dp, S)
			for i := 0; i < S; i++ {
				pr := p[i*S : (i+1)*S]
				dr := dp[i*S : (i+1)*S]
				var dot T
				for j := range pr {
					dot += pr[j] * dr[j]
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - dot) * scale
				}
			}
			// dQ = dS·K, dK = dSᵀ·Q
			gemm(false, false, S, sh.Dh, S, 1, dp, S, qkv[base+h+off:], ld, 0, dqkv[base+off:], ld)
			gemm(true, false, S, sh.Dh, S, 1, dp, S, qkv[base+off:], ld, 0, dqkv[base+h+off:], ld)
		}
	})
}
