package dedup

import (
	"strings"
	"testing"
)

// The test set parsers must turn any bytes into items or an error, never a
// panic; and every item they return has text.
func FuzzParseSQuAD(f *testing.F) {
	f.Add([]byte(`{"data":[{"title":"T","paragraphs":[{"context":"c","qas":[{"id":"q1","question":"why?"}]}]}]}`), true)
	f.Add([]byte(`{"data":null}`), false)
	f.Add([]byte(`{"data":[{"paragraphs":[{"context":"","qas":[{"id":5}]}]}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, questions bool) {
		items, _, err := parseSQuAD(data, questions)
		checkItems(t, items, err)
	})
}

func FuzzParseJSONL(f *testing.F) {
	f.Add([]byte("{\"text\":\"a\",\"id\":1}\n\n{\"text\":\"b\"}\n"), "text", "id")
	f.Add([]byte("not json\n"), "text", "")
	f.Fuzz(func(t *testing.T, data []byte, textField, idField string) {
		items, skipped, bad, err := parseJSONL(data, textField, idField)
		checkItems(t, items, err)
		if len(bad) > skipped {
			t.Fatalf("%d bad lines but only %d skipped", len(bad), skipped)
		}
	})
}

func FuzzParseTSV(f *testing.F) {
	f.Add([]byte("sentence\tlabel\nit 's good .\t1\n\"quoted\t0\n"), "sentence", "")
	f.Add([]byte("a\tb\n1\n"), "1", "0")
	f.Fuzz(func(t *testing.T, data []byte, col, idCol string) {
		items, _, err := parseTSV(data, col, idCol)
		checkItems(t, items, err)
	})
}

func FuzzParseText(f *testing.F) {
	f.Add([]byte("one\n\ntwo\nthree\r\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, blocks bool) {
		items, _ := parseText(data, blocks)
		checkItems(t, items, nil)
	})
}

func checkItems(t *testing.T, items []TestItem, err error) {
	if err != nil {
		if items != nil {
			t.Fatalf("items returned with error %v", err)
		}
		return
	}
	for _, it := range items {
		if strings.TrimSpace(it.Text) == "" {
			t.Fatalf("item %q has no text", it.ID)
		}
	}
}

// Matching any text against the index must not panic, and hits must point
// at real token ranges.
func FuzzLeakMatch(f *testing.F) {
	ix, err := BuildLeakIndex([]TestSetSpec{xquadSpec()}, DefaultLeakParams)
	if err != nil {
		f.Fatal(err)
	}
	items := loadItems(&testing.T{}, xquadSpec())
	f.Add(items[0].Text)
	f.Add("数学是利用符号语言研究數量")
	f.Add("\xff\xfe broken utf-8 ’ don't")
	f.Fuzz(func(t *testing.T, text string) {
		hits, toks := ix.Match(text, nil)
		for _, h := range hits {
			if h.From < 0 || h.To > len(toks) || h.From >= h.To {
				t.Fatalf("hit range %d..%d of %d tokens", h.From, h.To, len(toks))
			}
		}
		var tk leakTokenizer
		a, b := overlapSpans(tk.tokenize(text), toks, 3)
		for _, s := range append(a, b...) {
			if s.Start < 0 || s.End > len(text) || s.Start >= s.End {
				t.Fatalf("bad span %+v", s)
			}
		}
	})
}
