package dedup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/corpusflow/corpusflow/flow"
)

// TestCutSpans pins GPT-3's cut on made-up text: widen by the window, merge
// what overlaps or touches, count the pieces left, drop short pieces.
func TestCutSpans(t *testing.T) {
	text := strings.Repeat("a", 30) + strings.Repeat("b", 30) + strings.Repeat("c", 30) // 90 bytes
	zh := strings.Repeat("甲", 10) + strings.Repeat("乙", 10) + strings.Repeat("丙", 10)   // 30 runes, 90 bytes
	cases := []struct {
		name             string
		text             string
		spans            []Span
		window, max, min int
		want             []string
		wantReason       string
	}{
		{"one span, window 5", text, []Span{{40, 50}}, 5, 10, 1,
			[]string{text[:35], text[55:]}, ""},
		{"spans 10 apart merge after widening by 5", text, []Span{{20, 25}, {35, 40}}, 5, 10, 1,
			[]string{text[:15], text[45:]}, ""},
		{"spans that only touch after widening merge", text, []Span{{20, 25}, {35, 40}}, 5, 1, 1,
			nil, cutTooManyPieces}, // still 2 pieces: more than 1
		{"spans 11 apart stay apart: 3 pieces", text, []Span{{20, 25}, {36, 40}}, 5, 10, 1,
			[]string{text[:15], text[30:31], text[45:]}, ""},
		{"3 pieces is more than 2", text, []Span{{20, 25}, {36, 40}}, 5, 2, 1,
			nil, cutTooManyPieces},
		{"max 0 is no limit", text, []Span{{10, 11}, {30, 31}, {50, 51}, {70, 71}}, 2, 0, 1,
			[]string{text[:8], text[13:28], text[33:48], text[53:68], text[73:]}, ""},
		{"pieces under the minimum go", text, []Span{{10, 20}}, 5, 10, 20,
			[]string{text[25:]}, ""},
		{"only short pieces: dropped", text, []Span{{40, 50}}, 5, 10, 36,
			nil, cutOnlyShort},
		{"a span at the start leaves one piece", text, []Span{{0, 10}}, 5, 1, 1,
			[]string{text[15:]}, ""},
		{"window past both ends", text, []Span{{5, 85}}, 50, 10, 1,
			nil, cutOnlyShort},
		{"the window counts runes, not bytes", zh, []Span{{30, 33}}, 2, 10, 1,
			[]string{zh[:24], zh[39:]}, ""},
		{"the minimum counts runes: 8 runes are 24 bytes", zh, []Span{{30, 33}}, 2, 10, 9,
			[]string{zh[39:]}, ""},
	}
	for _, c := range cases {
		got, reason := cutSpans(c.text, c.spans, c.window, c.max, c.min)
		if reason != c.wantReason || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, %q; want %q, %q", c.name, got, reason, c.want, c.wantReason)
		}
	}
}

func cutConfig(action string) DecontaminateConfig {
	cfg := DefaultDecontaminateConfig
	cfg.TestSets = []TestSetSpec{xquadSpec()}
	cfg.Action = action
	return cfg
}

// itemByID finds an XQuAD context paragraph.
func itemByID(t *testing.T, items []TestItem, id string) TestItem {
	t.Helper()
	for _, it := range items {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("no item %s", id)
	return TestItem{}
}

// replaceEveryTenth replaces 10 % of the words, as the edited case.
func replaceEveryTenth(text string) string {
	words := strings.Fields(text)
	for i := 5; i < len(words); i += 10 {
		words[i] = "zzword"
	}
	return strings.Join(words, " ")
}

// lastWordEnd is where the last letter or digit of s ends: a match ends
// there, since the leak tokenizer leaves punctuation out of tokens.
func lastWordEnd(s string) int {
	i := strings.LastIndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
	_, size := utf8.DecodeRuneInString(s[i:])
	return i + size
}

// leakPage builds filler, passages separated by filler, filler; it returns
// the text and where each passage starts and ends.
func leakPage(t *testing.T, lead int, passages []string, gap, tail int) (string, []Span) {
	t.Helper()
	var b strings.Builder
	var at []Span
	b.WriteString(filler(t, lead, 100))
	for i, p := range passages {
		b.WriteString("\n")
		start := b.Len()
		b.WriteString(p)
		at = append(at, Span{start, start + len(p)})
		b.WriteString("\n")
		if i+1 < len(passages) {
			b.WriteString(filler(t, gap, 20000+1000*i))
		}
	}
	b.WriteString(filler(t, tail, 60000))
	return b.String(), at
}

// TestDecontaminateCut runs the cut action through the stage on real
// passages inside real filler text.
func TestDecontaminateCut(t *testing.T) {
	items := loadItems(t, xquadSpec())
	warsaw := itemByID(t, items, "Warsaw/3") // 207 words
	if n := len(strings.Fields(warsaw.Text)); n != 207 {
		t.Fatalf("Warsaw/3 has %d words", n)
	}
	var distinct []string // long passages of distinct articles
	seen := map[string]bool{}
	for _, it := range items {
		title, _, _ := strings.Cut(it.ID, "/")
		if !seen[title] && len(strings.Fields(it.Text)) >= 80 {
			seen[title] = true
			distinct = append(distinct, it.Text)
		}
	}
	if len(distinct) < 11 {
		t.Fatalf("only %d articles with long passages", len(distinct))
	}

	verbatim, vAt := leakPage(t, 1500, []string{warsaw.Text}, 0, 1500)
	edited, eAt := leakPage(t, 1000, []string{replaceEveryTenth(warsaw.Text)}, 0, 1000)
	nine, _ := leakPage(t, 200, distinct[:9], 200, 200)
	ten, _ := leakPage(t, 200, distinct[:10], 200, 200)
	eleven, _ := leakPage(t, 200, distinct[:11], 200, 200)
	shortOnly := "A short introduction.\n" + warsaw.Text + "\nAnd a short end."
	shortLead := "Too short to keep.\n" + warsaw.Text + "\n" + filler(t, 300, 7000)
	clean := filler(t, 2000, 90000)

	recs := []*flow.Record{
		{ID: "verbatim", Text: verbatim},
		{ID: "edited10", Text: edited},
		{ID: "nine_leaks", Text: nine},
		{ID: "ten_leaks", Text: ten},
		{ID: "eleven_leaks", Text: eleven},
		{ID: "short_only", Text: shortOnly},
		{ID: "short_lead", Text: shortLead},
		{ID: "clean", Text: clean},
	}
	sink, rej := runDecontaminate(t, cutConfig("cut"), t.TempDir(), 2, recs)
	kept := map[string]*flow.Record{}
	for _, r := range sink.got {
		kept[r.ID] = r
	}
	reasons := map[string]string{}
	for _, r := range rej.got {
		reasons[r.Record.ID] = r.Reason
	}
	wantReasons := map[string]string{
		"ten_leaks":    cutTooManyPieces, // 11 pieces
		"eleven_leaks": cutTooManyPieces, // 12 pieces
		"short_only":   cutOnlyShort,
	}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("rejected %v, want %v", reasons, wantReasons)
	}

	t.Run("verbatim: the passage ±200 characters goes, the rest stays byte for byte", func(t *testing.T) {
		r := kept["verbatim"]
		if r == nil {
			t.Fatal("not kept")
		}
		want := verbatim[:vAt[0].Start-200] + "\n" + verbatim[vAt[0].Start+lastWordEnd(warsaw.Text)+200:]
		if r.Text != want {
			t.Errorf("cut text differs: got %d bytes, want %d", len(r.Text), len(want))
		}
		if got, _ := r.Meta["leak_of"].([]string); !reflect.DeepEqual(got, []string{"xquad_en/Warsaw/3"}) {
			t.Errorf("leak_of %v", got)
		}
	})

	t.Run("edited 10 %: one cut around the passage, not a dropped page", func(t *testing.T) {
		r := kept["edited10"]
		if r == nil {
			t.Fatalf("dropped as %s", reasons["edited10"])
		}
		before, after, ok := strings.Cut(r.Text, "\n")
		if !ok || strings.Contains(after, "\n") {
			t.Fatalf("want 2 pieces, got %d", strings.Count(r.Text, "\n")+1)
		}
		if !strings.HasPrefix(edited, before) || !strings.HasSuffix(edited, after) {
			t.Fatal("the pieces are not the page's own start and end")
		}
		// The cut covers the whole passage, with the 200-character margin
		// before it (it starts with unedited words) and after its last run
		// of unedited words long enough to count (here the one before the
		// last replaced word: two words follow it).
		cutFrom, cutTo := len(before), len(edited)-len(after)
		lastRun := eAt[0].Start + strings.LastIndex(edited[eAt[0].Start:eAt[0].End], " zzword ")
		if cutFrom > eAt[0].Start-200 || cutTo < eAt[0].End || cutTo < lastRun+200 {
			t.Errorf("cut [%d, %d) does not cover the passage [%d, %d) with its margins", cutFrom, cutTo, eAt[0].Start, eAt[0].End)
		}
		// Word pairs of the passage's own words decide the cut, so it
		// reaches at most a few words further than the margins.
		if cutFrom < eAt[0].Start-200-40 || cutTo > eAt[0].End+200+40 {
			t.Errorf("cut [%d, %d) reaches far beyond the passage [%d, %d) ± 200", cutFrom, cutTo, eAt[0].Start, eAt[0].End)
		}
	})

	t.Run("nine separate leaks leave ten pieces: kept", func(t *testing.T) {
		r := kept["nine_leaks"]
		if r == nil {
			t.Fatalf("dropped as %s", reasons["nine_leaks"])
		}
		if n := strings.Count(r.Text, "\n") + 1; n != 10 {
			t.Errorf("%d pieces, want 10", n)
		}
		if got, _ := r.Meta["leak_of"].([]string); len(got) != 9 {
			t.Errorf("leak_of has %d items, want 9", len(got))
		}
		for _, p := range distinct[:9] {
			if strings.Contains(r.Text, strings.Join(strings.Fields(p)[20:33], " ")) {
				t.Errorf("a passage survived the cut: %.60s", p)
			}
		}
	})

	t.Run("a piece under 200 characters goes with the passage", func(t *testing.T) {
		r := kept["short_lead"]
		if r == nil {
			t.Fatalf("dropped as %s", reasons["short_lead"])
		}
		wantFrom := len("Too short to keep.\n") + lastWordEnd(warsaw.Text) + 200
		if r.Text != shortLead[wantFrom:] {
			t.Errorf("kept %q..., want the text from byte %d", r.Text[:min(60, len(r.Text))], wantFrom)
		}
	})

	if r := kept["clean"]; r == nil || r.Text != clean || r.Meta["leak_of"] != nil {
		t.Error("the clean document was changed")
	}
}

// TestDecontaminateDrop: the default action rejects a contaminated record
// with its reason, and the rejection carries leak_of.
func TestDecontaminateDrop(t *testing.T) {
	items := loadItems(t, xquadSpec())
	warsaw := itemByID(t, items, "Warsaw/3")
	page, _ := leakPage(t, 1500, []string{warsaw.Text}, 0, 1500)
	recs := []*flow.Record{
		{ID: "clean", Text: filler(t, 2000, 90000)},
		{ID: "leak", URL: "https://example.com/warsaw", Text: page},
	}
	sink, rej := runDecontaminate(t, cutConfig("drop"), t.TempDir(), 1, recs)
	if got := ids(sink.got); got != "clean" {
		t.Errorf("kept %s, want clean", got)
	}
	if len(rej.got) != 1 {
		t.Fatalf("%d rejections, want 1", len(rej.got))
	}
	r := rej.got[0]
	if r.Record.ID != "leak" || r.Reason != "test_set_leak" {
		t.Errorf("rejected %s as %q, want leak as test_set_leak", r.Record.ID, r.Reason)
	}
	if got, _ := r.Record.Meta["leak_of"].([]string); !reflect.DeepEqual(got, []string{"xquad_en/Warsaw/3"}) {
		t.Errorf("rejection leak_of = %v", r.Record.Meta["leak_of"])
	}
	if r.Record.Text != page {
		t.Error("a dropped record must keep its text for the rejects file")
	}
}

// TestAuditTrainTotalsPerAction: the report's corpus totals say what each
// action did to the same records.
func TestAuditTrainTotalsPerAction(t *testing.T) {
	items := loadItems(t, xquadSpec())
	warsaw := itemByID(t, items, "Warsaw/3")
	verbatim, _ := leakPage(t, 1500, []string{warsaw.Text}, 0, 1500)
	edited, _ := leakPage(t, 1000, []string{replaceEveryTenth(warsaw.Text)}, 0, 1000)
	recs := []*flow.Record{
		{ID: "clean", Text: filler(t, 2000, 90000)},
		{ID: "verbatim", Text: verbatim},
		{ID: "edited10", Text: edited},
		{ID: "short_only", Text: "A short introduction.\n" + warsaw.Text + "\nAnd a short end."},
	}
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r.Text))
	}
	for _, c := range []struct {
		action string
		kept   string
		want   TrainTotals
	}{
		{"flag", "clean,verbatim,edited10,short_only", TrainTotals{Records: 4, Bytes: bytes, Contaminated: 3, Action: "flag"}},
		{"drop", "clean", TrainTotals{Records: 4, Bytes: bytes, Contaminated: 3, Action: "drop", Dropped: 3}},
		{"cut", "clean,verbatim,edited10", TrainTotals{Records: 4, Bytes: bytes, Contaminated: 3, Action: "cut", Dropped: 1, Cut: 2}},
	} {
		dir := t.TempDir()
		sink, _ := runDecontaminate(t, cutConfig(c.action), dir, 2, recs)
		if got := ids(sink.got); got != c.kept {
			t.Errorf("%s: kept %s, want %s", c.action, got, c.kept)
		}
		data, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep LeakReport
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Train != c.want {
			t.Errorf("%s: train totals %+v, want %+v", c.action, rep.Train, c.want)
		}
		if rep.Parameters.Action != c.action {
			t.Errorf("%s: report parameters say action %q", c.action, rep.Parameters.Action)
		}
	}
}
