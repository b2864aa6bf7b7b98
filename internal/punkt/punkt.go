package punkt

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	punktdata "github.com/neurosnap/sentences/data"

	"github.com/corpusflow/corpusflow/internal/pystr"
)

// Orthographic context flags, as NLTK numbers them.
const (
	orthoBegUC = 1 << 1
	orthoMidUC = 1 << 2
	orthoUnkUC = 1 << 3
	orthoBegLC = 1 << 4
	orthoMidLC = 1 << 5
	orthoUnkLC = 1 << 6
	orthoUC    = orthoBegUC + orthoMidUC + orthoUnkUC
	orthoLC    = orthoBegLC + orthoMidLC + orthoUnkLC
)

// numberType is the type Punkt gives every numeric token.
const numberType = "##number##"

// Model holds Punkt parameters (the English model's). It is read-only and
// safe for concurrent use.
type Model struct {
	abbrevs     map[string]bool
	colloc      map[[2]string]bool
	collocFirst map[string]bool // first halves of collocations, to skip most lookups
	starters    map[string]bool
	ortho       map[string]int
}

var (
	englishOnce sync.Once
	english     *Model
	englishErr  error
)

// English returns the English model, parsed once (about 20 ms, 3 MB).
func English() (*Model, error) {
	englishOnce.Do(func() {
		raw, err := punktdata.Asset("data/english.json")
		if err != nil {
			englishErr = fmt.Errorf("punkt english model: %w", err)
			return
		}
		var dump struct {
			AbbrevTypes  map[string]int
			Collocations map[string]int
			SentStarters map[string]int
			OrthoContext map[string]int
		}
		if err := json.Unmarshal(raw, &dump); err != nil {
			englishErr = fmt.Errorf("punkt english model: %w", err)
			return
		}
		m := &Model{
			abbrevs:     make(map[string]bool, len(dump.AbbrevTypes)),
			colloc:      make(map[[2]string]bool, len(dump.Collocations)),
			collocFirst: map[string]bool{},
			starters:    make(map[string]bool, len(dump.SentStarters)),
			ortho:       dump.OrthoContext,
		}
		for k := range dump.AbbrevTypes {
			m.abbrevs[k] = true
		}
		for k := range dump.Collocations {
			a, b, ok := strings.Cut(k, ",")
			if !ok {
				englishErr = fmt.Errorf("punkt english model: collocation %q has no comma", k)
				return
			}
			m.colloc[[2]string{a, b}] = true
			m.collocFirst[a] = true
		}
		for k := range dump.SentStarters {
			m.starters[k] = true
		}
		english = m
	})
	return english, englishErr
}

// ptoken is one Punkt word token with its annotations.
type ptoken struct {
	tok       string
	typ       string // lower-cased, numbers replaced by ##number##
	sentbreak bool
	abbr      bool
	ellipsis  bool
}

func (t *ptoken) periodFinal() bool { return strings.HasSuffix(t.tok, ".") }

func (t *ptoken) typeNoPeriod() string {
	if len(t.typ) > 1 && t.typ[len(t.typ)-1] == '.' {
		return t.typ[:len(t.typ)-1]
	}
	return t.typ
}

func (t *ptoken) typeNoSentPeriod() string {
	if t.sentbreak {
		return t.typeNoPeriod()
	}
	return t.typ
}

func (t *ptoken) firstRune() rune {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return r
}

// Python's str.isupper()/islower() on one character also accept the
// Other_Uppercase / Other_Lowercase letters (Ⓐ, Ⅰ, ª ...).
func (t *ptoken) firstUpper() bool {
	r := t.firstRune()
	return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r)
}

func (t *ptoken) firstLower() bool {
	r := t.firstRune()
	return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r)
}

// isInitial is NLTK's [^\W\d]\.$ : one letter (or underscore) and a period.
func (t *ptoken) isInitial() bool {
	r, n := utf8.DecodeRuneInString(t.tok)
	return len(t.tok) == n+1 && t.tok[n] == '.' && pystr.IsWordChar(r) && !unicode.IsDigit(r)
}

// Scratch is reusable memory for one goroutine's sentence counting, so
// counting allocates nothing per line on ordinary text. The zero value is
// ready to use.
type Scratch struct {
	toks  []ptoken
	arena []byte // lower-cased token types live here until the next context
}

// NewScratch returns a Scratch sized for ordinary lines.
func NewScratch() *Scratch {
	return &Scratch{toks: make([]ptoken, 0, 16), arena: make([]byte, 0, 512)}
}

var scratchPool = sync.Pool{New: func() any { return NewScratch() }}

// lowerType returns Punkt's type for tok: tok.lower(), or ##number## for
// numbers. ASCII types are written to the arena instead of the heap.
func (s *Scratch) lowerType(tok string) string {
	ascii, hasUpper := true, false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			hasUpper = true
		}
	}
	var low string
	switch {
	case !ascii:
		low = pystr.Lower(tok)
	case !hasUpper:
		low = tok
	case len(s.arena)+len(tok) <= cap(s.arena):
		start := len(s.arena)
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.arena = append(s.arena, c)
		}
		low = unsafe.String(&s.arena[start], len(tok))
	default:
		low = strings.ToLower(tok)
	}
	if isPunktNumber(low) {
		return numberType
	}
	return low
}

// isPunktNumber is NLTK's ^-?[\.,]?\d[\d,\.-]*\.?$ .
func isPunktNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if n == 0 || !unicode.IsDigit(r) {
		return false
	}
	for i += n; i < len(s); {
		c := s[i]
		if c == ',' || c == '.' || c == '-' {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsDigit(r) {
			return false
		}
		i += n
	}
	return true
}

// isNonWordByte is NLTK's _re_non_word_chars for English: )";}]*:@'({[?!
func isNonWordByte(c byte) bool {
	switch c {
	case ')', '"', ';', '}', ']', '*', ':', '@', '\'', '(', '{', '[', '?', '!':
		return true
	}
	return false
}

// isWordStartRune is NLTK's _re_word_start: anything but ("`{[:;&#*@)}]-,
func isWordStartRune(r rune) bool {
	switch r {
	case '(', '"', '`', '{', '[', ':', ';', '&', '#', '*', '@', ')', '}', ']', '-', ',':
		return false
	}
	return true
}

// spaceAt returns the size of the Python whitespace character at s[i:], or 0.
func spaceAt(s string, i int) int {
	c := s[i]
	if c < utf8.RuneSelf {
		if pystr.IsASCIISpace(c) {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if pystr.IsSpace(r) {
		return n
	}
	return 0
}

// multiCharAt is the length of NLTK's multi-character punctuation
// (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.) at s[i:], or 0.
func multiCharAt(s string, i int) int {
	if i+1 >= len(s) {
		return 0
	}
	switch {
	case s[i] == '-' && s[i+1] == '-':
		j := i
		for j < len(s) && s[j] == '-' {
			j++
		}
		return j - i
	case s[i] == '.' && s[i+1] == '.':
		j := i
		for j < len(s) && s[j] == '.' {
			j++
		}
		return j - i
	case s[i] == '.':
		// (?:\.\s){2,}\. : take as many ". " pairs as there are, then back
		// off one pair if no period follows.
		var ends [3]int // ends of the last pairs, most recent last
		pairs, j := 0, i
		for j < len(s) && s[j] == '.' && j+1 < len(s) {
			n := spaceAt(s, j+1)
			if n == 0 {
				break
			}
			j += 1 + n
			pairs++
			ends[0], ends[1], ends[2] = ends[1], ends[2], j
		}
		if pairs >= 2 && j < len(s) && s[j] == '.' {
			return j + 1 - i
		}
		if pairs >= 3 {
			return ends[1] + 1 - i // pairs-1 pairs, then the period that began the last pair
		}
	}
	return 0
}

// wordEndsAt is the lookahead that ends a Punkt word token at s[i:].
func wordEndsAt(s string, i int) bool {
	if i >= len(s) || spaceAt(s, i) > 0 || isNonWordByte(s[i]) || multiCharAt(s, i) > 0 {
		return true
	}
	if s[i] == ',' {
		j := i + 1
		return j >= len(s) || spaceAt(s, j) > 0 || isNonWordByte(s[j]) || multiCharAt(s, j) > 0
	}
	return false
}

// tokenizeWords appends the Punkt word tokens of text to toks.
func tokenizeWords(text string, toks []ptoken) []ptoken {
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		for i := 0; i < len(line); {
			if n := spaceAt(line, i); n > 0 {
				i += n
				continue
			}
			if n := multiCharAt(line, i); n > 0 {
				toks = append(toks, ptoken{tok: line[i : i+n]})
				i += n
				continue
			}
			r, n := utf8.DecodeRuneInString(line[i:])
			j := i + n
			if isWordStartRune(r) {
				for !wordEndsAt(line, j) {
					_, m := utf8.DecodeRuneInString(line[j:])
					j += m
				}
			}
			toks = append(toks, ptoken{tok: line[i:j]})
			i = j
		}
	}
	return toks
}

// firstPass marks sentence ends, abbreviations and ellipses by type alone.
func (m *Model) firstPass(s *Scratch, t *ptoken) {
	tok := t.tok
	switch {
	case tok == "." || tok == "?" || tok == "!":
		t.sentbreak = true
	case len(tok) >= 2 && strings.Trim(tok, ".") == "":
		t.ellipsis = true
	case strings.HasSuffix(tok, ".") && !strings.HasSuffix(tok, ".."):
		stem := s.lowerType(tok[:len(tok)-1])
		if stem == numberType { // the abbreviation test uses the plain lower case
			stem = pystr.Lower(tok[:len(tok)-1])
		}
		last := stem
		if k := strings.LastIndexByte(stem, '-'); k >= 0 {
			last = stem[k+1:]
		}
		if m.abbrevs[stem] || m.abbrevs[last] {
			t.abbr = true
		} else {
			t.sentbreak = true
		}
	}
}

// orthoHeuristic says whether t starts a sentence: 1 yes, 0 no, -1 unknown.
func (m *Model) orthoHeuristic(t *ptoken) int {
	switch t.tok {
	case ";", ":", ",", ".", "!", "?":
		return 0
	}
	ctx := m.ortho[t.typeNoSentPeriod()]
	if t.firstUpper() && ctx&orthoLC != 0 && ctx&orthoMidUC == 0 {
		return 1
	}
	if t.firstLower() && (ctx&orthoUC != 0 || ctx&orthoBegLC == 0) {
		return 0
	}
	return -1
}

// secondPass revises t1's annotation in the light of the token after it.
func (m *Model) secondPass(t1, t2 *ptoken) {
	if !t1.periodFinal() {
		return
	}
	typ := t1.typeNoPeriod()
	nextTyp := t2.typeNoSentPeriod()
	initial := t1.isInitial()
	if m.collocFirst[typ] && m.colloc[[2]string{typ, nextTyp}] {
		t1.sentbreak, t1.abbr = false, true
		return
	}
	if (t1.abbr || t1.ellipsis) && !initial {
		if m.orthoHeuristic(t2) == 1 {
			t1.sentbreak = true
			return
		}
		if t2.firstUpper() && m.starters[nextTyp] {
			t1.sentbreak = true
			return
		}
	}
	if initial || typ == numberType {
		starter := m.orthoHeuristic(t2)
		if starter == 0 {
			t1.sentbreak, t1.abbr = false, true
			return
		}
		if starter == -1 && initial && t2.firstUpper() && m.ortho[nextTyp]&orthoLC == 0 {
			t1.sentbreak, t1.abbr = false, true
		}
	}
}

// containsSentbreak is NLTK's text_contains_sentbreak: some token of context
// is a sentence break and another token follows it.
func (m *Model) containsSentbreak(s *Scratch, context string) bool {
	s.arena = s.arena[:0]
	toks := tokenizeWords(context, s.toks[:0])
	s.toks = toks
	for i := range toks {
		t := &toks[i]
		t.typ = s.lowerType(t.tok)
		m.firstPass(s, t)
	}
	found := false
	for i := range toks {
		if i+1 < len(toks) {
			m.secondPass(&toks[i], &toks[i+1])
		}
		if found {
			return true
		}
		if toks[i].sentbreak {
			found = true
		}
	}
	return false
}

// endCandidate is one match of NLTK's period context: an end character at
// pos, what follows it up to afterEnd, and where the next token starts (-1
// when the end character is followed by punctuation, not whitespace).
type endCandidate struct {
	pos, afterEnd, nextTok int
}

// endChars finds the next '.', '?' or '!' with three SIMD IndexByte
// searches, each repeated only when its last hit has been passed.
type endChars struct {
	text string
	next [3]int // next position of . ? ! at or after the last query; -1 none
}

var sentEndBytes = [3]byte{'.', '?', '!'}

func newEndChars(text string) endChars {
	e := endChars{text: text}
	for k, c := range sentEndBytes {
		e.next[k] = strings.IndexByte(text, c)
	}
	return e
}

// from returns the first end character at or after i, or -1.
func (e *endChars) from(i int) int {
	best := -1
	for k, c := range sentEndBytes {
		if e.next[k] >= 0 && e.next[k] < i {
			if j := strings.IndexByte(e.text[i:], c); j >= 0 {
				e.next[k] = i + j
			} else {
				e.next[k] = -1
			}
		}
		if e.next[k] >= 0 && (best < 0 || e.next[k] < best) {
			best = e.next[k]
		}
	}
	return best
}

// nextEndCandidate finds the first candidate at or after from.
func nextEndCandidate(text string, ends *endChars, from int) (endCandidate, bool) {
	for i := ends.from(from); i >= 0; i = ends.from(i + 1) {
		if i+1 >= len(text) {
			return endCandidate{}, false
		}
		if isNonWordByte(text[i+1]) {
			return endCandidate{pos: i, afterEnd: i + 2, nextTok: -1}, true
		}
		j := i + 1
		for j < len(text) {
			n := spaceAt(text, j)
			if n == 0 {
				break
			}
			j += n
		}
		if j == i+1 || j >= len(text) {
			continue // no whitespace, or nothing after it
		}
		k := j
		for k < len(text) && spaceAt(text, k) == 0 {
			_, n := utf8.DecodeRuneInString(text[k:])
			k += n
		}
		return endCandidate{pos: i, afterEnd: k, nextTok: j}, true
	}
	return endCandidate{}, false
}

// lastASCIISpace is NLTK's _get_last_whitespace_index: the index of the last
// character of string.whitespace in s, or 0.
func lastASCIISpace(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return i
		}
	}
	return 0
}

// CountText returns len(PunktSentenceTokenizer.tokenize(text)), borrowing
// its scratch memory from a pool.
func (m *Model) CountText(text string) int {
	s := scratchPool.Get().(*Scratch)
	defer scratchPool.Put(s)
	return m.Count(s, text)
}

// Count returns len(PunktSentenceTokenizer.tokenize(text)): the number of
// sentences NLTK's Punkt finds in text, line breaks being whitespace to it
// as to NLTK. s is the caller's scratch memory (one per goroutine).
func (m *Model) Count(s *Scratch, text string) int {
	end := len(pystr.RStrip(text))
	count := 0
	lastBreak := 0
	realign := 0
	// emit accounts for the sentence [start, stop) that is followed by the
	// text starting at next (or none when final), as _realign_boundaries does.
	emit := func(start, stop, nextStart, nextStop int, final bool) {
		start += realign
		if final {
			if start < stop {
				count++
			}
			return
		}
		if n := boundaryRealignment(text[nextStart:nextStop]); n > 0 {
			count++
			realign = n
			return
		}
		realign = 0
		if start < stop {
			count++
		}
	}
	// Sentences are only known once the following one is, so hold one back.
	var pendStart, pendStop int
	havePending := false
	addSlice := func(start, stop int) {
		if havePending {
			emit(pendStart, pendStop, start, stop, false)
		}
		pendStart, pendStop, havePending = start, stop, true
	}

	decide := func(c endCandidate, wordStart int) {
		if m.containsSentbreak(s, text[wordStart:c.afterEnd]) {
			addSlice(lastBreak, c.pos+1)
			if c.nextTok >= 0 {
				lastBreak = c.nextTok
			} else {
				lastBreak = c.pos + 1
			}
		}
	}

	var prev endCandidate
	prevStart, prevStop := 0, 0
	havePrev := false
	ends := newEndChars(text)
	for from := 0; ; {
		c, ok := nextEndCandidate(text, &ends, from)
		if !ok {
			break
		}
		from = c.pos + 1
		wordStart := prevStart
		if idx := lastASCIISpace(text[prevStop:c.pos]); idx != 0 {
			wordStart = idx + prevStop + 1
		}
		if havePrev && prevStop <= wordStart {
			decide(prev, prevStart)
		}
		prev, prevStart, prevStop, havePrev = c, wordStart, c.pos, true
	}
	if havePrev {
		decide(prev, prevStart)
	}
	if lastBreak > end { // the final slice is empty
		addSlice(lastBreak, lastBreak)
	} else {
		addSlice(lastBreak, end)
	}
	emit(pendStart, pendStop, 0, 0, true)
	return count
}

// boundaryRealignment is the length NLTK's ["\')\]}]+?(?:\s+|(?=--)|$)
// (MULTILINE) matches at the start of s, or 0.
func boundaryRealignment(s string) int {
	closers := 0
	for closers < len(s) && strings.IndexByte(`"')]}`, s[closers]) >= 0 {
		closers++
	}
	for k := 1; k <= closers; k++ {
		j := k
		for j < len(s) {
			n := spaceAt(s, j)
			if n == 0 {
				break
			}
			j += n
		}
		if j > k {
			return j
		}
		if strings.HasPrefix(s[k:], "--") || k == len(s) {
			return k
		}
	}
	return 0
}
