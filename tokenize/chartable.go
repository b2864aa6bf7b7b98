package tokenize

import "sync"

//go:generate go run ./internal/gentables -in ../testdata/tokenize/hf-chars.txt.gz -out chartable_gen.go

// charFlags say how the reference tokenizers treat one code point. They are
// generated from what Hugging Face tokenizers itself answers for every code
// point (tools/golden/chars.js → testdata/tokenize/hf-chars.txt.gz →
// chartable_gen.go), because its Rust crates use older or newer Unicode
// tables than Go's, and one differing character is one differing id.
type charFlags uint16

const (
	// fDrop: BertNormalizer(clean_text) removes it (NUL, U+FFFD, Cc, Cf, Co).
	fDrop charFlags = 1 << iota
	// fCleanSpace: clean_text turns it into a space (Unicode White_Space).
	fCleanSpace
	// fChinese: handle_chinese_chars makes it a word of its own (CJK ideographs).
	fChinese
	// fMark: a nonspacing mark (Mn) that strip_accents removes.
	fMark
	// fDecomp: strip_accents changes it (a canonical decomposition or an
	// override in stripOverrides).
	fDecomp
	// fLower: lowercase changes it (mapping in lowerTable).
	fLower
	// fBertSpace: BertPreTokenizer splits on it and drops it.
	fBertSpace
	// fBertPunct: BertPreTokenizer makes it a word of its own.
	fBertPunct
	// fLetter, fNumber, fSpace: \p{L}, \p{N} and \s in the GPT-2 pattern.
	fLetter
	fNumber
	fSpace
)

// charRange gives flags to the code points lo..hi.
type charRange struct {
	lo, hi rune
	flags  charFlags
}

// The flag table is two-level: stage1 maps the high bits of a code point to a
// block of 256 flag entries; identical blocks are shared, so the whole Unicode
// range takes a few tens of kilobytes and a lookup is two loads.
const blockShift = 8

var (
	charStage1 [(0x10FFFF >> blockShift) + 1]uint16
	charBlocks [][1 << blockShift]charFlags
	// lowerMap holds the lowercase of every code point with fLower.
	lowerMap map[rune]string
	// stripOverride holds the strip_accents output of the few code points
	// whose decomposition in Go's Unicode tables differs from the reference's.
	stripOverride map[rune]string
)

var charTablesOnce sync.Once

// initCharTables builds the lookup tables on first use, so that binaries
// that never tokenize do not pay for it at start.
func initCharTables() { charTablesOnce.Do(buildCharTables) }

func buildCharTables() {
	var full [0x110000]charFlags
	for _, r := range charRanges {
		for c := r.lo; c <= r.hi; c++ {
			full[c] |= r.flags
		}
	}
	index := map[[1 << blockShift]charFlags]uint16{}
	for b := range charStage1 {
		var blk [1 << blockShift]charFlags
		copy(blk[:], full[b<<blockShift:(b+1)<<blockShift])
		i, ok := index[blk]
		if !ok {
			i = uint16(len(charBlocks))
			charBlocks = append(charBlocks, blk)
			index[blk] = i
		}
		charStage1[b] = i
	}
	lowerMap = make(map[rune]string, len(lowerTable))
	for _, e := range lowerTable {
		lowerMap[e.from] = e.to
	}
	stripOverride = make(map[rune]string, len(stripOverrides))
	for _, e := range stripOverrides {
		stripOverride[e.from] = e.to
	}
	initASCIIFlags()
}

// flagsOf returns the flags of a code point (0 for anything past U+10FFFF).
func flagsOf(r rune) charFlags {
	if uint32(r) > 0x10FFFF {
		return 0
	}
	return charBlocks[charStage1[r>>blockShift]][r&(1<<blockShift-1)]
}

// mapping is one entry of a generated code point → string table.
type mapping struct {
	from rune
	to   string
}
