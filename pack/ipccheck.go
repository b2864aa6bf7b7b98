package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The Arrow decoder (arrow/go v15) believes the lengths in a file's
// flatbuffer metadata: it makes a slice of as many fields as a schema
// claims, follows children without bounding the depth, and reads message
// bodies of the lengths the footer or the stream says. Those allocations do
// not go through its allocator, and running out of memory or stack cannot be
// recovered in Go. checkIPCStructure walks that metadata first, with every
// length checked against the bytes that hold it, so a damaged shard that
// reaches the decoder unverified gets an error instead of killing the
// process. It also refuses what costs time rather than memory: a footer
// listing one message many times, and zstd frames declaring windows far
// larger than their buffers (zstd.go). The buffers of record batches go
// through the decoder's allocator, which has a budget (budget.go).

// Flatbuffer vtable slots (Arrow's File.fbs, Schema.fbs, Message.fbs).
const (
	fbFooterSchema, fbFooterDictionaries, fbFooterRecordBatches, fbFooterMetadata = 1, 2, 3, 4
	fbSchemaFields, fbSchemaMetadata                                              = 1, 2
	fbFieldChildren, fbFieldMetadata                                              = 5, 6
	fbMessageHeaderType, fbMessageHeader, fbMessageBodyLength, fbMessageMetadata  = 1, 2, 3, 4

	fbMessageHeaderSchema, fbMessageHeaderDictionaryBatch, fbMessageHeaderRecordBatch = 1, 2, 3 // MessageHeader
	fbDictionaryBatchData                                                             = 1
	fbRecordBatchBuffers, fbRecordBatchCompression                                    = 2, 3
	fbBodyCompressionCodec                                                            = 0
	fbCompressionZstd                                                                 = 1  // CompressionType.ZSTD
	bufferSize                                                                        = 16 // struct Buffer {offset, length: long}
	blockSize                                                                         = 24
	maxFieldDepth                                                                     = 64
	arrowMagic                                                                        = "ARROW1"
)

var errDamagedMetadata = errors.New("damaged Arrow metadata")

// checkIPCStructure checks the metadata of an Arrow IPC file or stream held
// in data.
func checkIPCStructure(data []byte, format string) error {
	if format == FormatStream {
		return checkStream(data, 0, len(data))
	}
	return checkFile(data)
}

func checkFile(data []byte) error {
	n := len(data)
	if n < 2*len(arrowMagic)+4 || string(data[n-len(arrowMagic):]) != arrowMagic {
		return fmt.Errorf("%w: no Arrow file footer", errDamagedMetadata)
	}
	size := int(binary.LittleEndian.Uint32(data[n-len(arrowMagic)-4:]))
	end := n - len(arrowMagic) - 4
	if size <= 0 || size > end-len(arrowMagic) {
		return fmt.Errorf("%w: footer of %d bytes in a %d-byte file", errDamagedMetadata, size, n)
	}
	fb := fbBuffer(data[end-size : end])
	footer, err := fb.root()
	if err != nil {
		return err
	}
	if schema, ok, err := fb.table(footer, fbFooterSchema); err != nil {
		return err
	} else if ok {
		if err := fb.checkSchema(schema); err != nil {
			return err
		}
	}
	if _, _, err := fb.vector(footer, fbFooterMetadata, 4); err != nil {
		return err
	}
	var blocks []fileBlock
	for _, slot := range []int{fbFooterDictionaries, fbFooterRecordBatches} {
		start, count, err := fb.vector(footer, slot, blockSize)
		if err != nil {
			return err
		}
		for i := 0; i < count; i++ {
			b := fb[start+i*blockSize:]
			offset := int64(binary.LittleEndian.Uint64(b))
			meta := int64(int32(binary.LittleEndian.Uint32(b[8:])))
			body := int64(binary.LittleEndian.Uint64(b[16:]))
			if offset < 0 || meta <= 0 || body < 0 || offset > int64(end) || meta > int64(end)-offset || body > int64(end)-offset-meta {
				return fmt.Errorf("%w: block %d (offset %d, metadata %d, body %d bytes) outside the %d-byte file", errDamagedMetadata, i, offset, meta, body, n)
			}
			blocks = append(blocks, fileBlock{int(offset), int(meta), int(body)})
		}
	}
	// A writer writes each message once; a footer that lists one twice (or
	// overlapping ones) makes the decoder decode the same bytes again, as
	// many times as 24 bytes of footer allow.
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].offset < blocks[j].offset })
	for i := 1; i < len(blocks); i++ {
		if prev := blocks[i-1]; blocks[i].offset < prev.offset+prev.meta+prev.body {
			return fmt.Errorf("%w: the footer lists overlapping messages at offsets %d and %d", errDamagedMetadata, prev.offset, blocks[i].offset)
		}
	}
	for _, b := range blocks {
		if err := checkFileMessage(data, b); err != nil {
			return err
		}
	}
	return nil
}

// fileBlock is where a message of an IPC file is: its metadata (with its
// length prefix) at offset, then its body.
type fileBlock struct{ offset, meta, body int }

// checkFileMessage checks the message a file block points at.
func checkFileMessage(data []byte, b fileBlock) error {
	meta := data[b.offset : b.offset+b.meta]
	if len(meta) < 4 {
		return fmt.Errorf("%w: message metadata of %d bytes at offset %d", errDamagedMetadata, len(meta), b.offset)
	}
	// The length prefix, as the decoder skips it: none before a zero word,
	// 8 bytes after the continuation marker, 4 in files older than 0.15.
	prefix := 4
	switch binary.LittleEndian.Uint32(meta) {
	case 0:
		prefix = 0
	case 0xFFFFFFFF:
		prefix = 8
	}
	if prefix > len(meta) {
		return fmt.Errorf("%w: message metadata of %d bytes at offset %d", errDamagedMetadata, len(meta), b.offset)
	}
	fb := fbBuffer(meta[prefix:])
	msg, err := fb.root()
	if err != nil {
		return err
	}
	return fb.checkBody(msg, data[b.offset+b.meta:b.offset+b.meta+b.body])
}

// checkStream walks the messages of a stream in data[pos:end].
func checkStream(data []byte, pos, end int) error {
	first := true
	for pos+4 <= end {
		length := int64(int32(binary.LittleEndian.Uint32(data[pos:])))
		pos += 4
		if uint32(length) == 0xFFFFFFFF {
			if pos+4 > end {
				break
			}
			length = int64(int32(binary.LittleEndian.Uint32(data[pos:])))
			pos += 4
		}
		if length == 0 {
			return nil // end of stream
		}
		if length < 0 || length > int64(end-pos) {
			return fmt.Errorf("%w: message of %d bytes at offset %d of %d", errDamagedMetadata, length, pos, end)
		}
		fb := fbBuffer(data[pos : pos+int(length)])
		msg, err := fb.root()
		if err != nil {
			return err
		}
		body, err := fb.int64Field(msg, fbMessageBodyLength)
		if err != nil {
			return err
		}
		pos += int(length)
		if body < 0 || body > int64(end-pos) {
			return fmt.Errorf("%w: message body of %d bytes at offset %d of %d", errDamagedMetadata, body, pos, end)
		}
		if err := fb.checkBody(msg, data[pos:pos+int(body)]); err != nil {
			return err
		}
		pos += int(body)
		if _, _, err := fb.vector(msg, fbMessageMetadata, 4); err != nil {
			return err
		}
		kind, err := fb.uint8Field(msg, fbMessageHeaderType)
		if err != nil {
			return err
		}
		if first && kind == fbMessageHeaderSchema {
			schema, ok, err := fb.table(msg, fbMessageHeader)
			if err != nil {
				return err
			}
			if ok {
				if err := fb.checkSchema(schema); err != nil {
					return err
				}
			}
		}
		first = false
	}
	return nil
}

// fbBuffer is one flatbuffer; every read is bounds-checked.
type fbBuffer []byte

func (fb fbBuffer) u32(pos int) (int, error) {
	if pos < 0 || pos > len(fb)-4 {
		return 0, fmt.Errorf("%w: offset %d outside %d bytes", errDamagedMetadata, pos, len(fb))
	}
	return int(binary.LittleEndian.Uint32(fb[pos:])), nil
}

func (fb fbBuffer) root() (int, error) { return fb.u32(0) }

// slot returns the position of a table's field, or ok false when absent.
func (fb fbBuffer) slot(table, slot int) (pos int, ok bool, err error) {
	soff, err := fb.u32(table)
	if err != nil {
		return 0, false, err
	}
	vtable := table - int(int32(soff))
	if vtable < 0 || vtable > len(fb)-4 {
		return 0, false, fmt.Errorf("%w: vtable at %d outside %d bytes", errDamagedMetadata, vtable, len(fb))
	}
	vsize := int(binary.LittleEndian.Uint16(fb[vtable:]))
	at := 4 + 2*slot
	if at+2 > vsize {
		return 0, false, nil
	}
	if vtable+at+2 > len(fb) {
		return 0, false, fmt.Errorf("%w: vtable at %d outside %d bytes", errDamagedMetadata, vtable, len(fb))
	}
	off := int(binary.LittleEndian.Uint16(fb[vtable+at:]))
	if off == 0 {
		return 0, false, nil
	}
	return table + off, true, nil
}

// indirect follows the offset stored at pos.
func (fb fbBuffer) indirect(pos int) (int, error) {
	off, err := fb.u32(pos)
	if err != nil {
		return 0, err
	}
	return pos + off, nil
}

func (fb fbBuffer) table(table, slot int) (int, bool, error) {
	pos, ok, err := fb.slot(table, slot)
	if !ok || err != nil {
		return 0, false, err
	}
	t, err := fb.indirect(pos)
	return t, err == nil, err
}

// vector returns the first element and the length of a vector field whose
// elements take elem bytes, checking that they fit in the buffer.
func (fb fbBuffer) vector(table, slot, elem int) (start, n int, err error) {
	pos, ok, err := fb.slot(table, slot)
	if !ok || err != nil {
		return 0, 0, err
	}
	vec, err := fb.indirect(pos)
	if err != nil {
		return 0, 0, err
	}
	n, err = fb.u32(vec)
	if err != nil {
		return 0, 0, err
	}
	start = vec + 4
	if n > (len(fb)-start)/elem {
		return 0, 0, fmt.Errorf("%w: a vector of %d elements in %d bytes", errDamagedMetadata, n, len(fb)-start)
	}
	return start, n, nil
}

func (fb fbBuffer) int64Field(table, slot int) (int64, error) {
	pos, ok, err := fb.slot(table, slot)
	if !ok || err != nil {
		return 0, err
	}
	if pos > len(fb)-8 {
		return 0, fmt.Errorf("%w: offset %d outside %d bytes", errDamagedMetadata, pos, len(fb))
	}
	return int64(binary.LittleEndian.Uint64(fb[pos:])), nil
}

func (fb fbBuffer) uint8Field(table, slot int) (uint8, error) {
	pos, ok, err := fb.slot(table, slot)
	if !ok || err != nil {
		return 0, err
	}
	if pos >= len(fb) {
		return 0, fmt.Errorf("%w: offset %d outside %d bytes", errDamagedMetadata, pos, len(fb))
	}
	return fb[pos], nil
}

// checkSchema checks a Schema table's fields, their children (to a bounded
// depth, and no more fields in all than the buffer could hold: offsets can
// point back, making a cycle or a graph exponentially larger than the
// buffer) and custom metadata.
func (fb fbBuffer) checkSchema(schema int) error {
	if _, _, err := fb.vector(schema, fbSchemaMetadata, 4); err != nil {
		return err
	}
	budget := len(fb) / 4
	return fb.checkFields(schema, fbSchemaFields, 0, &budget)
}

func (fb fbBuffer) checkFields(table, slot, depth int, budget *int) error {
	start, n, err := fb.vector(table, slot, 4)
	if err != nil {
		return err
	}
	if n > 0 && depth >= maxFieldDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errDamagedMetadata, maxFieldDepth)
	}
	for i := 0; i < n; i++ {
		if *budget--; *budget < 0 {
			return fmt.Errorf("%w: more fields than %d bytes can hold", errDamagedMetadata, len(fb))
		}
		field, err := fb.indirect(start + 4*i)
		if err != nil {
			return err
		}
		if _, _, err := fb.vector(field, fbFieldMetadata, 4); err != nil {
			return err
		}
		if err := fb.checkFields(field, fbFieldChildren, depth+1, budget); err != nil {
			return err
		}
	}
	return nil
}

// checkBody checks the compressed buffers of a record or dictionary batch
// message against its body: each must lie in the body, and a zstd buffer's
// frames may not declare a window far larger than the buffer (zstd.go).
func (fb fbBuffer) checkBody(msg int, body []byte) error {
	kind, err := fb.uint8Field(msg, fbMessageHeaderType)
	if err != nil || (kind != fbMessageHeaderRecordBatch && kind != fbMessageHeaderDictionaryBatch) {
		return err
	}
	batch, ok, err := fb.table(msg, fbMessageHeader)
	if !ok || err != nil {
		return err
	}
	if kind == fbMessageHeaderDictionaryBatch {
		if batch, ok, err = fb.table(batch, fbDictionaryBatchData); !ok || err != nil {
			return err
		}
	}
	compression, ok, err := fb.table(batch, fbRecordBatchCompression)
	if !ok || err != nil {
		return err
	}
	codec, err := fb.uint8Field(compression, fbBodyCompressionCodec)
	if err != nil || codec != fbCompressionZstd {
		return err // LZ4 frames declare at most 4 MiB blocks
	}
	start, n, err := fb.vector(batch, fbRecordBatchBuffers, bufferSize)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		b := fb[start+i*bufferSize:]
		offset := int64(binary.LittleEndian.Uint64(b))
		length := int64(binary.LittleEndian.Uint64(b[8:]))
		if offset < 0 || length < 0 || offset > int64(len(body)) || length > int64(len(body))-offset {
			return fmt.Errorf("%w: buffer %d (offset %d, %d bytes) outside its %d-byte message body", errDamagedMetadata, i, offset, length, len(body))
		}
		if length < 8 {
			continue // empty, or the decoder's own error
		}
		buf := body[offset : offset+length]
		// The first 8 bytes are the decompressed length, -1 when stored
		// uncompressed.
		uncompressed := int64(binary.LittleEndian.Uint64(buf))
		if uncompressed == -1 {
			continue
		}
		if err := checkZstdWindows(buf[8:], uncompressed); err != nil {
			return fmt.Errorf("%w: buffer %d: %w", errDamagedMetadata, i, err)
		}
	}
	return nil
}
