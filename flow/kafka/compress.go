package kafka

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Frame compression.
//
// With `compression: zstd` (the default) a worker compresses each frame
// itself, at zstd's fastest level, and hands Kafka an uncompressed batch of
// compressed frames. kafka-go would compress the whole batch at zstd level 3
// through a stream encoder, inside the one goroutine that talks to a
// broker; EncodeAll at the fastest level compresses our frames about 1.4x
// faster for a ratio within 3 % (a batch holds one large frame, so
// compressing batches finds no more redundancy), and it runs on the
// goroutine that made the frame. `compression: s2` does the same with S2
// (klauspost/compress): on real text about 2.5x less CPU than zstd's
// fastest (478 against 185 MB/s of frame on the benchmark machine), frames
// about 1.25x larger (1.7x smaller than raw, against 2.2x) — for a fast
// network, where CPU is what limits; on one machine `none` costs least
// (BENCHMARKS.md, Kafka). The other codecs (gzip, snappy, lz4) are Kafka's batch
// compression, as before; consumers read every kind.
//
// A compressed frame keeps the 4-byte header, with a bit of the kind byte
// set, and the rest of the frame compressed as one block:
//
//	'C' 'F' version:byte kind|0x80 zstd(body)
//	'C' 'F' version:byte kind|0x40 s2(body)

const (
	kindZstd       = 0x80
	kindS2         = 0x40
	kindCompressed = kindZstd | kindS2
)

// maxFrameBytes bounds a decompressed frame, so that a corrupt or hostile
// message cannot make a worker allocate without limit. The engine caps a
// batch near 1 MB of text; 256 MiB leaves room for tokens and metadata.
const maxFrameBytes = 256 << 20

var (
	frameEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(4), zstd.WithZeroFrames(true))
		if err != nil {
			panic(err) // only bad options fail, and these are fixed
		}
		return e
	})
	frameDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(4), zstd.WithDecoderMaxMemory(maxFrameBytes))
		if err != nil {
			panic(err)
		}
		return d
	})
	// frameBuffers recycles the buffers a frame is encoded into before
	// compression and decompressed into before decoding: decodeFrame copies
	// everything it keeps, so the buffer is free once it returns.
	frameBuffers bufferPool
)

// bufferPool recycles byte buffers.
type bufferPool struct{ pool sync.Pool } // *[]byte

// get returns an empty buffer with room for at least size bytes.
func (p *bufferPool) get(size int) *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok && cap(*b) >= size {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, size)
	return &b
}

// put gives b back (nil is ignored), unless it is huge: the pool should not
// hold on to the largest frame ever seen.
func (p *bufferPool) put(b *[]byte) {
	if b != nil && cap(*b) <= 8<<20 {
		p.pool.Put(b)
	}
}

// compressFrame appends raw (an encoded frame) compressed with codec ("zstd"
// or "s2") to dst[:0] and returns it.
func compressFrame(dst, raw []byte, codec string) []byte {
	if codec == "s2" {
		need := frameHeaderSz + s2.MaxEncodedLen(len(raw)-frameHeaderSz)
		if cap(dst) < need {
			dst = make([]byte, 0, need)
		}
		dst = append(dst[:0], raw[0], raw[1], raw[2], raw[3]|kindS2)
		body := s2.Encode(dst[frameHeaderSz:cap(dst)], raw[frameHeaderSz:])
		return dst[:frameHeaderSz+len(body)]
	}
	dst = append(dst[:0], raw[0], raw[1], raw[2], raw[3]|kindZstd)
	return frameEncoder().EncodeAll(raw[frameHeaderSz:], dst)
}

// messageBuffers recycles the buffers that produced message values are
// compressed into. A value belongs to kafka-go from WriteMessages until its
// completion callback, so the producer puts it back only then.
var messageBuffers bufferPool

// decompressFrame returns the encoded frame in a compressed one, in a
// pooled buffer the caller puts back when done with it.
func decompressFrame(b []byte) (*[]byte, error) {
	switch b[3] & kindCompressed {
	case kindZstd:
		buf := frameBuffers.get(4 * len(b))
		*buf = append(*buf, b[0], b[1], b[2], b[3]&^kindCompressed)
		out, err := frameDecoder().DecodeAll(b[frameHeaderSz:], *buf)
		if err != nil {
			frameBuffers.put(buf)
			return nil, fmt.Errorf("%w: zstd: %v", errCorrupt, err)
		}
		*buf = out
		return buf, nil
	case kindS2:
		n, err := s2.DecodedLen(b[frameHeaderSz:])
		if err != nil || n > maxFrameBytes {
			return nil, fmt.Errorf("%w: s2 block of %d bytes (%v)", errCorrupt, n, err)
		}
		buf := frameBuffers.get(frameHeaderSz + n)
		*buf = append((*buf)[:0], b[0], b[1], b[2], b[3]&^kindCompressed)
		body, err := s2.Decode((*buf)[frameHeaderSz:frameHeaderSz+n], b[frameHeaderSz:])
		if err != nil {
			frameBuffers.put(buf)
			return nil, fmt.Errorf("%w: s2: %v", errCorrupt, err)
		}
		*buf = (*buf)[:frameHeaderSz+len(body)]
		return buf, nil
	}
	return nil, fmt.Errorf("%w: frame compressed twice (kind byte %#x)", errCorrupt, b[3])
}
