package trainer

import (
	"math"
	"testing"
)

func TestFastExpErfAccuracy(t *testing.T) {
	worstExp, worstErf := 0.0, 0.0
	for x := -87.0; x < 88; x += 0.0137 {
		got, want := float64(exp32(float32(x))), math.Exp(float64(float32(x)))
		worstExp = math.Max(worstExp, math.Abs(got-want)/want)
	}
	for x := -6.0; x < 6; x += 0.001 {
		got, want := float64(erf32(float32(x))), math.Erf(float64(float32(x)))
		worstErf = math.Max(worstErf, math.Abs(got-want))
	}
	t.Logf("exp32 worst relative error %.2g, erf32 worst absolute error %.2g", worstExp, worstErf)
	if worstExp > 3e-7 || worstErf > 5e-7 {
		t.Fatalf("exp32 rel err %.3g, erf32 abs err %.3g", worstExp, worstErf)
	}
	if exp32(-100) != 0 || !math.IsInf(float64(exp32(100)), 1) || erf32(20) != 1 || erf32(-20) != -1 {
		t.Fatal("range ends wrong")
	}
}
