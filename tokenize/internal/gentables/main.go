// Command gentables turns testdata/tokenize/hf-chars.txt.gz (how Hugging
// Face tokenizers treats every code point, written by tools/golden/chars.js)
// into tokenize/chartable_gen.go.
//
// Run it with `go generate ./tokenize`.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
)

const maxRune = 0x10FFFF

// Flag names as they are spelled in tokenize/chartable.go, in bit order.
var flagNames = []string{"fDrop", "fCleanSpace", "fChinese", "fMark", "fDecomp", "fLower", "fBertSpace", "fBertPunct", "fLetter", "fNumber", "fSpace"}

const (
	fDrop = 1 << iota
	fCleanSpace
	fChinese
	fMark
	fDecomp
	fLower
	fBertSpace
	fBertPunct
	fLetter
	fNumber
	fSpace
)

func main() {
	in := flag.String("in", "", "hf-chars.txt.gz")
	out := flag.String("out", "", "Go file to write")
	flag.Parse()
	if *in == "" || *out == "" {
		log.Fatal("usage: gentables -in hf-chars.txt.gz -out chartable_gen.go")
	}
	src, err := read(*in)
	if err != nil {
		log.Fatal(err)
	}
	code, err := generate(src)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		log.Fatal(err)
	}
}

// table is the parsed data file.
type table struct {
	version string
	flags   []uint16
	lower   map[rune]string
	strip   map[rune]string // "" = dropped
}

func read(path string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := &table{flags: make([]uint16, maxRune+1), lower: map[rune]string{}, strip: map[rune]string{}}
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") {
			if v, ok := strings.CutPrefix(text, "# How Hugging Face tokenizers "); ok {
				t.version, _, _ = strings.Cut(v, " ")
			}
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want PROPERTY RANGE [VALUE]", path, line)
		}
		lo, hi, err := parseRange(fields[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		value := fields[2:]
		for c := lo; c <= hi; c++ {
			switch fields[0] {
			case "clean":
				if len(value) == 1 && value[0] == "drop" {
					t.flags[c] |= fDrop
				} else if len(value) == 1 && value[0] == "20" {
					t.flags[c] |= fCleanSpace
				} else {
					return nil, fmt.Errorf("%s:%d: clean_text output %v is neither drop nor a space", path, line, value)
				}
			case "chinese":
				t.flags[c] |= fChinese
			case "strip":
				s, err := decodeValue(value)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", path, line, err)
				}
				t.strip[c] = s
			case "lower":
				s, err := decodeValue(value)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", path, line, err)
				}
				t.lower[c] = s
				t.flags[c] |= fLower
			case "bert_space":
				t.flags[c] |= fBertSpace
			case "bert_punct":
				t.flags[c] |= fBertPunct
			case "gpt2_L":
				t.flags[c] |= fLetter
			case "gpt2_N":
				t.flags[c] |= fNumber
			case "gpt2_S":
				t.flags[c] |= fSpace
			default:
				return nil, fmt.Errorf("%s:%d: unknown property %q", path, line, fields[0])
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The probe that finds \s cannot see U+0020 itself (" x" is one piece of
	// the pattern's " ?\p{L}+"), but the space is \s all the same.
	t.flags[' '] |= fSpace
	return t, nil
}

func parseRange(s string) (lo, hi rune, err error) {
	a, b, isRange := strings.Cut(s, "-")
	l, err := strconv.ParseUint(a, 16, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("bad code point %q", a)
	}
	h := l
	if isRange {
		if h, err = strconv.ParseUint(b, 16, 32); err != nil {
			return 0, 0, fmt.Errorf("bad code point %q", b)
		}
	}
	if h < l || h > maxRune {
		return 0, 0, fmt.Errorf("bad range %q", s)
	}
	return rune(l), rune(h), nil
}

func decodeValue(v []string) (string, error) {
	if len(v) == 1 && v[0] == "drop" {
		return "", nil
	}
	var b strings.Builder
	for _, h := range v {
		c, err := strconv.ParseUint(h, 16, 32)
		if err != nil || c > maxRune {
			return "", fmt.Errorf("bad code point %q", h)
		}
		b.WriteRune(rune(c))
	}
	return b.String(), nil
}

func generate(t *table) ([]byte, error) {
	// A code point whose strip_accents output is empty is a nonspacing mark
	// (or decomposes into nothing but marks).
	for c, s := range t.strip {
		if s == "" {
			t.flags[c] |= fMark
		}
	}
	// The Go side strips accents with Go's NFD and the mark flags above; where
	// that differs from the reference (its normalization tables are of
	// another Unicode version) the reference's answer is kept as an override.
	overrides := map[rune]string{}
	for c := rune(0); c <= maxRune; c++ {
		if c >= 0xD800 && c <= 0xDFFF {
			continue
		}
		want, changed := t.strip[c]
		if !changed {
			want = string(c)
		}
		got := goStrip(c, t.flags)
		if got != want {
			overrides[c] = want
		}
		if changed || got != want {
			if t.flags[c]&fMark == 0 {
				t.flags[c] |= fDecomp
			}
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by go run ./internal/gentables from testdata/tokenize/hf-chars.txt.gz\n")
	fmt.Fprintf(&b, "// (Hugging Face tokenizers %s, Node binding). DO NOT EDIT.\n\npackage tokenize\n\n", t.version)
	fmt.Fprintf(&b, "// hfTokenizersVersion is the version of Hugging Face tokenizers the tables were taken from.\n")
	fmt.Fprintf(&b, "const hfTokenizersVersion = %q\n\n", t.version)
	b.WriteString("var charRanges = [...]charRange{\n")
	start := rune(0)
	for c := rune(1); c <= maxRune+1; c++ {
		if c <= maxRune && t.flags[c] == t.flags[start] {
			continue
		}
		if f := t.flags[start]; f != 0 {
			fmt.Fprintf(&b, "\t{0x%X, 0x%X, %s},\n", start, c-1, flagExpr(f))
		}
		start = c
	}
	b.WriteString("}\n\n")
	writeMappings(&b, "lowerTable", t.lower)
	writeMappings(&b, "stripOverrides", overrides)
	return format.Source(b.Bytes())
}

// goStrip is what tokenize does for strip_accents without overrides: marks
// are dropped, other code points are replaced by their NFD with marks
// removed.
func goStrip(c rune, flags []uint16) string {
	if flags[c]&fMark != 0 {
		return ""
	}
	var b strings.Builder
	for _, d := range norm.NFD.String(string(c)) {
		if flags[d]&fMark == 0 {
			b.WriteRune(d)
		}
	}
	return b.String()
}

func flagExpr(f uint16) string {
	var parts []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, " | ")
}

func writeMappings(b *bytes.Buffer, name string, m map[rune]string) {
	keys := make([]rune, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	fmt.Fprintf(b, "var %s = [...]mapping{\n", name)
	for _, k := range keys {
		fmt.Fprintf(b, "\t{0x%X, %s},\n", k, quote(m[k]))
	}
	b.WriteString("}\n\n")
}

// quote writes a string as a Go literal with every non-ASCII code point
// escaped, so the generated file is plain ASCII.
func quote(s string) string {
	return strconv.QuoteToASCII(s)
}
