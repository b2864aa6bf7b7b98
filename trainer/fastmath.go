package trainer

import (
	"math"
	"unsafe"
)

// The float32 model spends much of its non-multiply time in exp (softmax over
// a 30k vocabulary) and erf (GELU). math.Exp and math.Erf work in float64 and
// are several times slower than float32 needs; PyTorch uses vectorised
// float32 versions. These are float32 kernels accurate to a few ulp; the
// float64 instantiation (gradient checks) keeps the math package.
// unsafe.Sizeof(x) is a constant in each instantiation, so the branch
// disappears at compile time.

func expT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(exp32(float32(x)))
	}
	return T(math.Exp(float64(x)))
}

func erfT[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(erf32(float32(x)))
	}
	return T(math.Erf(float64(x)))
}

// exp32 is Cephes' expf: e^x = 2^n · e^r with |r| ≤ ln2/2 and a degree-6
// polynomial for e^r (relative error about 1e-7).
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	if x > 88.72283 {
		return float32(math.Inf(1))
	}
	if x < -87.33654 {
		return 0
	}
	// Round x/ln2 to the nearest integer by adding and removing 1.5·2²³:
	// float32 addition rounds to nearest, and the call to math.Floor this
	// replaces cost as much as the rest of the function.
	const roundMagic = 12582912
	n := (x*log2e + roundMagic) - roundMagic
	r := x - n*ln2hi - n*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// erf32 is Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, under
// float32's resolution near 1).
func erf32(x float32) float32 {
	sign := float32(1)
	if x < 0 {
		sign, x = -1, -x
	}
	if x > 9 {
		return sign
	}
	t := 1 / (1 + 0.3275911*x)
	y := 1 - (((((1.061405429*t-1.453152027)*t)+1.421413741)*t-0.284496736)*t+0.254829592)*t*exp32(-x*x)
	return sign * y
}
