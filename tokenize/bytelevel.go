package tokenize

import "unicode/utf8"

// GPT-2's byte-level alphabet: every byte is shown as one printable
// character, so that a vocabulary of strings can hold arbitrary bytes. The
// printable Latin-1 bytes stand for themselves; the others (controls, space,
// 0x7F-0xA0, 0xAD) are shifted to U+0100 and up, in byte order.
var (
	byteToChar [256]rune
	charToByte = map[rune]byte{}
)

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
		if printable {
			byteToChar[b] = rune(b)
		} else {
			byteToChar[b] = next
			next++
		}
		charToByte[byteToChar[b]] = byte(b)
	}
}

// byteLevelString shows raw bytes in the byte-level alphabet.
func byteLevelString(raw []byte) string {
	out := make([]byte, 0, 2*len(raw))
	for _, b := range raw {
		out = utf8.AppendRune(out, byteToChar[b])
	}
	return string(out)
}

// byteLevelBytes turns a byte-level token back into its bytes; ok is false
// when a character is not in the alphabet (added tokens may contain any).
func byteLevelBytes(token string, dst []byte) ([]byte, bool) {
	mark := len(dst)
	for _, r := range token {
		b, ok := charToByte[r]
		if !ok {
			return dst[:mark], false
		}
		dst = append(dst, b)
	}
	return dst, true
}

// appendLossyUTF8 appends raw to dst as valid UTF-8, replacing each maximal
// ill-formed subsequence with U+FFFD, as Rust's String::from_utf8_lossy does
// (Go's strings.ToValidUTF8 would replace a whole run of bad bytes once).
func appendLossyUTF8(dst []byte, raw []byte) []byte {
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		if r != utf8.RuneError || size > 1 {
			dst = append(dst, raw[i:i+size]...)
			i += size
			continue
		}
		i += maximalSubpart(raw[i:])
		dst = utf8.AppendRune(dst, utf8.RuneError)
	}
	return dst
}

// maximalSubpart is the length of the ill-formed sequence at the start of b
// that one U+FFFD replaces: a lead byte and the continuation bytes that could
// still have completed it (Unicode §3.9, "maximal subpart").
func maximalSubpart(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 2
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	case lead == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		c := b[n]
		if c < lo || c > hi {
			break
		}
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}
