package dedup

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestMT19937MatchesReference(t *testing.T) {
	// std::mt19937(1) and numpy's RandomState(1) start with these outputs.
	m := newMT19937(1)
	want := []uint32{1791095845, 4282876139, 3093770124, 4005303368, 491263}
	for i, w := range want {
		if got := m.uint32(); got != w {
			t.Fatalf("output %d = %d, want %d", i, got, w)
		}
	}
}

type golden struct {
	Seed      uint64   `json:"seed"`
	Text      string   `json:"text"`
	Signature []uint64 `json:"signature"`
	A0        uint64   `json:"a0"`
	B0        uint64   `json:"b0"`
}

// TestSignatureEqualsDatatrove checks signatures against ones computed with
// numpy and xxhash exactly as datatrove does (testdata/datatrove_golden.py).
func TestSignatureEqualsDatatrove(t *testing.T) {
	raw, err := os.ReadFile("testdata/datatrove_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []golden
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for i, c := range cases {
		h, err := NewMinHasher(FamilyDatatrove, len(c.Signature), c.Seed)
		if err != nil {
			t.Fatal(err)
		}
		a, b := h.Params()
		if a[0] != c.A0 || b[0] != c.B0 {
			t.Fatalf("case %d seed %d: a0,b0 = %d,%d want %d,%d", i, c.Seed, a[0], b[0], c.A0, c.B0)
		}
		sig := make([]uint64, len(c.Signature))
		if !h.SignatureOf(c.Text, 5, sig) {
			t.Fatalf("case %d: no signature", i)
		}
		for k := range sig {
			if sig[k] != c.Signature[k] {
				t.Fatalf("case %d (%.30q): hash %d = %d, want %d", i, c.Text, k, sig[k], c.Signature[k])
			}
		}
	}
}

func TestSimplifier(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hello,  World!", "hello world"},
		{"don't stop", "dont stop"},
		{"1,000,000 dollars in 2015", "0 dollars in 0"},
		{"Café déjà vu", "cafe deja vu"},
		{"a - b", "a b"},
		{"数学是利用符号", "数 学 是 利 用 符 号"},
		{"BERT模型 works", "bert 模 型 works"},
		{"tab\tnew\nline\x1fsep", "tab new line sep"},
		{"", ""},
		{"!!!", ""},
	}
	var s simplifier
	for _, c := range cases {
		s.simplify(c.in)
		got := ""
		if s.tokens() > 0 {
			got = string(s.span(0, s.tokens()-1))
		}
		if got != c.want {
			t.Errorf("simplify(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEstimateJaccardTracksTrueJaccard(t *testing.T) {
	// Two texts sharing a known fraction of 5-gram shingles; with 256
	// hashes the estimate is within ±0.1 of the truth (4 standard errors).
	// Digits would all normalize to 0, so the words are letters only.
	letters := func(i int) string { return fmt.Sprintf("w%c%c", 'a'+i/26, 'a'+i%26) }
	var a, b []string
	for i := 0; i < 400; i++ {
		w := letters(i)
		a = append(a, w)
		if i < 300 {
			b = append(b, w)
		} else {
			b = append(b, "x"+w)
		}
	}
	for _, fam := range []string{FamilyDatatrove, FamilyMultiplyShift} {
		h, _ := NewMinHasher(fam, 256, 1)
		sa, sb := make([]uint64, 256), make([]uint64, 256)
		h.SignatureOf(strings.Join(a, " "), 5, sa)
		h.SignatureOf(strings.Join(b, " "), 5, sb)
		// shingles: 396 each; shared: the 296 starting in the first 300 words.
		truth := 296.0 / (396 + 396 - 296)
		if got := EstimateJaccard(sa, sb); got < truth-0.1 || got > truth+0.1 {
			t.Errorf("%s: estimate %.3f, true Jaccard %.3f", fam, got, truth)
		}
	}
}

func TestNewMinHasherErrors(t *testing.T) {
	if _, err := NewMinHasher("sha1", 10, 1); err == nil || !strings.Contains(err.Error(), "datatrove") {
		t.Errorf("unknown family: %v", err)
	}
	if _, err := NewMinHasher(FamilyDatatrove, 0, 1); err == nil {
		t.Error("zero hashes accepted")
	}
	if _, err := NewMinHasher(FamilyDatatrove, 4, 1<<40); err == nil {
		t.Error("datatrove seed above 2^32 accepted")
	}
}
