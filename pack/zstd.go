package pack

import (
	"encoding/binary"
	"fmt"
)

// The zstd decoder that the Arrow decoder uses allocates, for each frame, a
// window of the size the frame's header declares, up to 512 MiB, before it
// decodes a byte and outside the Arrow decoder's allocator: 17 damaged
// bytes cost 512 MiB, and a few KB of batches listing such frames cost
// seconds of zeroing. An encoder declares a window no larger than what it
// was asked to compress rounded up (twice it at most) or, when it streams
// without knowing the size, its level's default (8 MiB up to level 19);
// anything larger is damage.
const zstdWindowFloor = 8 << 20

const (
	zstdMagic              = 0xFD2FB528
	zstdSkippableMagicMask = 0xFFFFFFF0
	zstdSkippableMagic     = 0x184D2A50
)

// checkZstdWindows walks the zstd frames in b, the compressed bytes of a
// buffer that decompresses to uncompressed bytes, and refuses a frame whose
// window is larger than max(2*uncompressed, 8 MiB). It stops quietly at
// bytes that are no frame: the decoder fails there too, before allocating.
func checkZstdWindows(b []byte, uncompressed int64) error {
	limit := max(2*uncompressed, zstdWindowFloor)
	for len(b) >= 4 {
		magic := binary.LittleEndian.Uint32(b)
		if magic&zstdSkippableMagicMask == zstdSkippableMagic {
			if len(b) < 8 {
				return nil
			}
			size := uint64(binary.LittleEndian.Uint32(b[4:]))
			if size > uint64(len(b)-8) {
				return nil
			}
			b = b[8+size:]
			continue
		}
		if magic != zstdMagic {
			return nil
		}
		window, rest, ok := zstdFrameHeader(b[4:])
		if !ok {
			return nil
		}
		if window > uint64(limit) {
			return fmt.Errorf("a zstd frame declares a %d-byte window for %d bytes", window, uncompressed)
		}
		if b, ok = skipZstdBlocks(rest, b[4]&0x04 != 0); !ok {
			return nil
		}
	}
	return nil
}

// zstdFrameHeader reads a frame header (after the magic number): the
// window the decoder will allocate, and the bytes after the header.
func zstdFrameHeader(b []byte) (window uint64, rest []byte, ok bool) {
	if len(b) < 1 {
		return 0, nil, false
	}
	descriptor := b[0]
	singleSegment := descriptor&0x20 != 0
	dictIDSize := [4]int{0, 1, 2, 4}[descriptor&0x03]
	contentSizeSize := [4]int{0, 2, 4, 8}[descriptor>>6]
	if contentSizeSize == 0 && singleSegment {
		contentSizeSize = 1
	}
	pos := 1
	if !singleSegment {
		if len(b) < 2 {
			return 0, nil, false
		}
		exponent, mantissa := uint64(b[1]>>3), uint64(b[1]&7)
		base := uint64(1) << (10 + exponent)
		window = base + base/8*mantissa
		pos++
	}
	pos += dictIDSize
	if len(b) < pos+contentSizeSize {
		return 0, nil, false
	}
	var contentSize uint64
	for i := contentSizeSize - 1; i >= 0; i-- {
		contentSize = contentSize<<8 | uint64(b[pos+i])
	}
	if contentSizeSize == 2 {
		contentSize += 256
	}
	pos += contentSizeSize
	if singleSegment {
		window = max(contentSize, 1<<10) // the window is the content
	}
	return window, b[pos:], true
}

// skipZstdBlocks returns the bytes after a frame's blocks and checksum.
func skipZstdBlocks(b []byte, checksum bool) (rest []byte, ok bool) {
	for {
		if len(b) < 3 {
			return nil, false
		}
		header := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		last, kind, size := header&1 != 0, (header>>1)&3, int(header>>3)
		b = b[3:]
		switch kind {
		case 1: // RLE: one byte repeated size times
			size = 1
		case 3: // reserved
			return nil, false
		}
		if size > len(b) {
			return nil, false
		}
		b = b[size:]
		if last {
			break
		}
	}
	if checksum {
		if len(b) < 4 {
			return nil, false
		}
		b = b[4:]
	}
	return b, true
}
