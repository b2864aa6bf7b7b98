package trainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// safetensors (https://github.com/huggingface/safetensors) is an 8-byte
// little-endian header length, a JSON header mapping each tensor name to its
// dtype, shape and byte range, and the raw little-endian data. It is small
// enough to write here with the strict checks a reader of untrusted files
// needs; the trainer only stores F32 tensors.

// NamedTensor is one tensor to store: float32 Data, or float64 Data64 when
// set (F64 is written only, for the float64 parity check).
type NamedTensor struct {
	Name   string
	Shape  []int
	Data   []float32
	Data64 []float64
}

type safetensorsEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// maxSafetensorsHeader bounds the JSON header (the Rust reference uses 100 MB).
const maxSafetensorsHeader = 100 << 20

// WriteSafetensors writes tensors (in the given order) and string metadata to
// path atomically.
func WriteSafetensors(path string, tensors []NamedTensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range tensors {
		if t.Name == "__metadata__" {
			return fmt.Errorf("safetensors %s: tensor name __metadata__ is reserved", path)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors %s: duplicate tensor %s", path, t.Name)
		}
		dtype, count, width := "F32", len(t.Data), int64(4)
		if t.Data64 != nil {
			dtype, count, width = "F64", len(t.Data64), 8
		}
		if n := shapeSize(t.Shape); n != count {
			return fmt.Errorf("safetensors %s: tensor %s has %d values for shape %v", path, t.Name, count, t.Shape)
		}
		size := int64(count) * width
		header[t.Name] = safetensorsEntry{DType: dtype, Shape: t.Shape, DataOffsets: [2]int64{offset, offset + size}}
		offset += size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the
	// reference writer does.
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	w := newBufferedWriter(f)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	w.Write(lenBuf[:])
	w.Write(hb)
	var buf [8]byte
	for _, t := range tensors {
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			w.Write(buf[:4])
		}
		for _, v := range t.Data64 {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
			w.Write(buf[:])
		}
	}
	if err := w.Flush(); err != nil {
		f.Abort()
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	return f.Commit()
}

// ReadSafetensors reads every F32 tensor of a safetensors file. Other dtypes
// are reported as an error naming the tensor.
func ReadSafetensors(path string) (map[string]NamedTensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	tensors, meta, err := ParseSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return tensors, meta, nil
}

// ParseSafetensors decodes a whole safetensors file held in memory.
func ParseSafetensors(b []byte) (map[string]NamedTensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errors.New("shorter than the 8-byte header length")
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > maxSafetensorsHeader || n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("header length %d exceeds the file (%d bytes) or the 100 MB limit", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	data := b[8+n:]
	var meta map[string]string
	tensors := make(map[string]NamedTensor, len(raw))
	type span struct {
		name       string
		start, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("__metadata__: %w", err)
			}
			continue
		}
		var e safetensorsEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		if e.DType != "F32" {
			return nil, nil, fmt.Errorf("tensor %s has dtype %s; only F32 is supported", name, e.DType)
		}
		size := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && size > math.MaxInt32/int64(d)) {
				return nil, nil, fmt.Errorf("tensor %s has impossible shape %v", name, e.Shape)
			}
			size *= int64(d)
		}
		start, end := e.DataOffsets[0], e.DataOffsets[1]
		if start < 0 || end < start || end > int64(len(data)) || end-start != size*4 {
			return nil, nil, fmt.Errorf("tensor %s: byte range [%d,%d) does not hold shape %v in %d data bytes", name, start, end, e.Shape, len(data))
		}
		vals := make([]float32, size)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[start+int64(i)*4:]))
		}
		tensors[name] = NamedTensor{Name: name, Shape: slices.Clone(e.Shape), Data: vals}
		spans = append(spans, span{name, start, end})
	}
	// The format forbids overlapping tensors and holes in the data.
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].start < spans[j].start || (spans[i].start == spans[j].start && spans[i].end < spans[j].end)
	})
	var at int64
	for _, s := range spans {
		if s.start != at {
			return nil, nil, fmt.Errorf("tensor %s starts at byte %d, expected %d (overlap or hole)", s.name, s.start, at)
		}
		at = s.end
	}
	if at != int64(len(data)) {
		return nil, nil, fmt.Errorf("%d data bytes after the last tensor", int64(len(data))-at)
	}
	return tensors, meta, nil
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

type bufferedWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newBufferedWriter(w io.Writer) *bufferedWriter {
	return &bufferedWriter{w: w, buf: make([]byte, 0, 1<<20)}
}

func (b *bufferedWriter) Write(p []byte) {
	if len(b.buf)+len(p) > cap(b.buf) {
		b.Flush()
	}
	b.buf = append(b.buf, p...)
}

func (b *bufferedWriter) Flush() error {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
	}
	b.buf = b.buf[:0]
	return b.err
}
