package dedup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seq returns n copies of v.
func seq(n, v int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestAdaptiveN pins GPT-3's n-gram length per test set: the 5th
// percentile of item lengths (nearest rank below: sorted[floor(0.05·(k−1))]),
// clamped to [8, 13].
func TestAdaptiveN(t *testing.T) {
	cases := []struct {
		name    string
		lengths []int
		want    int
	}{
		{"no items: the longest n", nil, 13},
		{"one item of 10", []int{10}, 10},
		{"short items clamp up to 8", []int{3, 4, 5}, 8},
		{"long items clamp down to 13", []int{40, 200, 90}, 13},
		{"exactly 8", []int{8, 30, 30}, 8},
		{"exactly 13", []int{13, 100}, 13},
		// 20 items: floor(0.05·19) = 0, the shortest decides.
		{"20 items: the shortest", append([]int{9}, seq(19, 50)...), 9},
		// 21 items: floor(0.05·20) = 1, the second shortest decides.
		{"21 items: the second shortest", append([]int{2, 11}, seq(19, 50)...), 11},
		// 100 items, 5 very short: index floor(4.95) = 4 is still short.
		{"100 items, 5 short", append(seq(5, 9), seq(95, 60)...), 9},
		// 100 items, 4 very short: index 4 is the first long one.
		{"100 items, 4 short", append(seq(4, 2), append([]int{10}, seq(95, 60)...)...), 10},
		// 21 items in no order: the second shortest after sorting.
		{"order does not matter", append([]int{50, 10, 70, 9, 30}, seq(16, 40)...), 10},
	}
	for _, c := range cases {
		if got := adaptiveN(c.lengths); got != c.want {
			t.Errorf("%s: adaptiveN = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestAdaptiveNCountsCJKByCharacter: a Chinese item's length is its
// characters (one token each), not its one whitespace "word".
func TestAdaptiveNCountsCJKByCharacter(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	zh := write("zh.txt", strings.Join([]string{
		"北京是中华人民共和国首都。", // 12 characters, 。 separates
		"上海位于长江入海口附近地区", // 13
		"广州是广东省的省会城市之一", // 13
		"深圳市在改革开放后迅速发展", // 13
		"杭州西湖风景名胜区很有名气", // 13
	}, "\n"))
	en := write("en.txt", strings.Join([]string{
		"one two three four five six seven eight nine ten",                // 10 words
		"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda", // 11
	}, "\n"))
	mixed := write("mixed.txt", "Beijing 北京市 is large, 人口很多 indeed\n") // Beijing 北 京 市 is large 人 口 很 多 indeed: 11 tokens
	ix, err := BuildLeakIndex([]TestSetSpec{
		{Name: "zh", Type: "text", Path: zh},
		{Name: "en", Type: "text", Path: en},
		{Name: "mixed", Type: "text", Path: mixed},
	}, DefaultLeakParams)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"zh": 12, "en": 10, "mixed": 11}
	for _, s := range ix.Sets {
		if s.NGram != want[s.Spec.Name] {
			t.Errorf("%s: n = %d, want %d", s.Spec.Name, s.NGram, want[s.Spec.Name])
		}
	}
}
