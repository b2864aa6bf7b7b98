package pack

import (
	"encoding/binary"
	"strings"
	"testing"
)

// zstdFrame is a frame of one last raw block of content after the header
// bytes given (frame header descriptor, window descriptor, dictionary id,
// content size).
func zstdFrame(header []byte, content string) []byte {
	f := binary.LittleEndian.AppendUint32(nil, zstdMagic)
	f = append(f, header...)
	block := uint32(1) | uint32(len(content))<<3 // last, raw
	f = append(f, byte(block), byte(block>>8), byte(block>>16))
	return append(f, content...)
}

func TestCheckZstdWindows(t *testing.T) {
	const window = 0x00 // descriptor byte: no content size, not single-segment, no checksum, no dictionary
	skippable := append(binary.LittleEndian.AppendUint32(nil, zstdSkippableMagic|0xA), 3, 0, 0, 0, 'x', 'y', 'z')
	cases := []struct {
		name         string
		frames       []byte
		uncompressed int64
		refused      string // in the error; "" = accepted
	}{
		{"single segment: the window is the content", zstdFrame([]byte{0x20, 12}, "twelve bytes"), 12, ""},
		{"1 KiB window", zstdFrame([]byte{window, 0 << 3}, "ab"), 2, ""},
		{"8 MiB window for 2 bytes: an encoder's default", zstdFrame([]byte{window, 13 << 3}, "ab"), 2, ""},
		{"16 MiB window for 2 bytes", zstdFrame([]byte{window, 14 << 3}, "ab"), 2, "16777216-byte window"},
		{"16 MiB window for 8 MiB", zstdFrame([]byte{window, 14 << 3}, "ab"), 8 << 20, ""},
		{"18 MiB window (mantissa) for 8 MiB", zstdFrame([]byte{window, 14<<3 | 1}, "ab"), 8 << 20, "18874368-byte window"},
		{"512 MiB window", zstdFrame([]byte{window, 19 << 3}, "ab"), 2, "536870912-byte window"},
		{"with a dictionary id", zstdFrame([]byte{window | 0x03, 19 << 3, 1, 2, 3, 4}, "ab"), 2, "536870912-byte window"},
		{"single segment claiming 1 GiB", zstdFrame([]byte{0xE0, 0, 0, 0, 0x40, 0, 0, 0, 0}, "ab"), 2, "1073741824-byte window"},
		{"2-byte content size", zstdFrame([]byte{0x60, 0xFF, 0xFF}, "ab"), 2, ""},
		{"after a skippable frame", append(skippable, zstdFrame([]byte{window, 19 << 3}, "ab")...), 2, "536870912-byte window"},
		{"the second frame", append(zstdFrame([]byte{window, 0}, "a"), zstdFrame([]byte{window, 19 << 3}, "b")...), 2, "536870912-byte window"},
		{"after a checksum", append(zstdFrame([]byte{window | 0x04, 0}, "a"), append([]byte{1, 2, 3, 4}, zstdFrame([]byte{window, 19 << 3}, "b")...)...), 2, "536870912-byte window"},
		{"bytes that are no frame: the decoder's error", []byte("not zstd at all"), 2, ""},
		{"a truncated header", zstdFrame([]byte{window}, "")[:5], 2, ""},
	}
	for _, c := range cases {
		err := checkZstdWindows(c.frames, c.uncompressed)
		if c.refused == "" && err != nil {
			t.Errorf("%s: %v, want accepted", c.name, err)
		}
		if c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused)) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.refused)
		}
	}
}
