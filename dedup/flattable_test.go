package dedup

import (
	"math/rand/v2"
	"testing"
)

func TestU64TableAgainstMap(t *testing.T) {
	tab := newU64Table()
	ref := map[uint64]uint32{}
	rng := rand.New(rand.NewPCG(1, 9))
	for i := 0; i < 100000; i++ {
		k := rng.Uint64() % 60000 // repeats, and the key 0
		v, added := tab.put(k)
		if _, had := ref[k]; added == had {
			t.Fatalf("put(%d): added %v, but present before: %v", k, added, had)
		}
		*v += uint32(i)
		ref[k] += uint32(i)
	}
	for k, want := range ref {
		if got, ok := tab.get(k); !ok || got != want {
			t.Fatalf("get(%d) = %d, %v; want %d", k, got, ok, want)
		}
	}
	for k := uint64(60000); k < 70000; k++ {
		if _, ok := tab.get(k); ok {
			t.Fatalf("get(%d) found a key never put", k)
		}
	}
}

func TestClassTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 8))
	for _, n := range []int{0, 1, 7, 757, 3000} {
		ref := map[uint32]uint32{}
		for len(ref) < n {
			v := rng.Uint32() >> rng.IntN(32) // small values too
			ref[v] |= 1 << rng.IntN(32)
		}
		if n > 0 {
			ref[0] = 1 << 5 // 0 is a value, not the empty marker
		}
		tab := newClassTable(ref)
		for v, want := range ref {
			if got := tab.classes(v); got != want {
				t.Fatalf("%d values: classes(%d) = %b, want %b", n, v, got, want)
			}
		}
		for range 20000 {
			v := rng.Uint32()
			if got := tab.classes(v); got != ref[v] {
				t.Fatalf("%d values: classes(%d) = %b, want %b", n, v, got, ref[v])
			}
		}
		if again := newClassTable(ref); len(again.slots) != len(tab.slots) || again.slots[len(again.slots)/2] != tab.slots[len(tab.slots)/2] {
			t.Fatalf("%d values: two builds differ", n)
		}
	}
}

func TestBitFilterHasNoFalseNegatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 7))
	const n = 50000
	f := newBitFilter(n)
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = rng.Uint64()
		f.add(keys[i])
	}
	for _, k := range keys {
		if !f.mayHave(k) {
			t.Fatalf("lost key %d", k)
		}
	}
	fp := 0
	for range 100000 {
		if f.mayHave(rng.Uint64()) {
			fp++
		}
	}
	if rate := float64(fp) / 100000; rate > 0.03 {
		t.Fatalf("false-positive rate %.4f at 16 bits a key, want about 0.014", rate)
	}
}
