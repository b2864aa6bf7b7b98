package filter

import (
	"fmt"
	"strings"
	"testing"
)

// TestFineWebQualityVersions: the original filter (what FineWeb used)
// counts empty lines and compares inclusively; datatrove's current one
// drops empty lines first, compares strictly and rejects empty texts.
func TestFineWebQualityVersions(t *testing.T) {
	long1 := "The farmers who settled along the river built long canals to carry water to their fields every spring."
	long2 := "Merchants brought salt, cloth and metal tools, and they took grain and wool back to the coast with them."
	// 25 distinct lines over 30 characters, 3 of them (exactly 12 %) ending
	// in terminal punctuation.
	var exact []string
	for i := range 25 {
		line := fmt.Sprintf("Line number %d of a page that lists the opening hours of the library", i)
		if i < 3 {
			line += "."
		}
		exact = append(exact, line)
	}
	cases := []struct {
		name, text        string
		original, current string
	}{
		{"good text", goodEnglish, "", ""},
		{"blank lines count as short lines only in the original", long1 + "\n\n\n\n\n\n" + long2, FineWebRejectShortLine, ""},
		{"exactly 12 % punctuated lines: <= rejects, < keeps", strings.Join(exact, "\n"), FineWebRejectLinePunct, ""},
		{"empty text", "", FineWebRejectLinePunct, FineWebRejectEmpty},
		{"whitespace only", " \n\t\n", FineWebRejectLinePunct, FineWebRejectEmpty},
	}
	for _, version := range []string{FineWebVersionOriginal, FineWebVersionCurrent} {
		cfg := DefaultFineWebQualityConfig()
		cfg.Version = version
		f, err := NewFineWebQuality(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			want := c.original
			if version == FineWebVersionCurrent {
				want = c.current
			}
			if got := f.Check(c.text, false); got != want {
				t.Errorf("%s, %s: %q, want %q", version, c.name, got, want)
			}
		}
	}
	cfg := DefaultFineWebQualityConfig()
	cfg.Version = "2023"
	if _, err := NewFineWebQuality(cfg); err == nil || !strings.HasPrefix(err.Error(), "version:") {
		t.Errorf("unknown version: %v", err)
	}
}
