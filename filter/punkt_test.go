package filter

import "testing"

// The counter itself is tested against NLTK in internal/punkt; this pins
// that the c4 stage's adapter counts with it (expected counts from NLTK
// 3.8's PunktSentenceTokenizer with the English model).
func TestPunktCountTable(t *testing.T) {
	m, err := loadEnglishPunkt()
	if err != nil {
		t.Fatal(err)
	}
	s := punktScratchPool.Get().(*punktScratch)
	defer punktScratchPool.Put(s)
	cases := []struct {
		text string
		want int
	}{
		{"This line has enough words and ends in punctuation, Dr. Roberts!", 1}, // dr is an abbreviation
		{`"Open Access. Powered by Scholars. Published by Universities."`, 3},   // closing quote realigned
		{"I like fruits, e.g. apples and pears. Fine.", 3},                      // e.g is not in the model
		{"Mr. Smith paid $3.50 to J. S. Bach. He left.", 2},                     // abbreviation, decimal, initials
		{"Wait... The train came.", 2},                                          // ellipsis then a sentence starter
		{"", 0},
		{"One sentence without an end", 1},
	}
	for _, c := range cases {
		if got := m.countSentences(s, c.text); got != c.want {
			t.Errorf("countSentences(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}
