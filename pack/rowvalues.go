package pack

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cespare/xxhash/v2"

	"github.com/corpusflow/corpusflow/flow"
)

// rowValues pulls a record's column values out of its Fields (or, for plain
// documents, its struct fields) and checks their types against the layout.
// Each slice is indexed by column; only the entries of the column's kind
// are meaningful.
type rowValues struct {
	strings []string
	ints    []int32
	lists   [][]int32
	bytes   [][]byte
}

// valueOf finds the value of column c for record r.
func valueOf(r *flow.Record, c Column) (any, bool) {
	if c.Name == ColID {
		return r.ID, true
	}
	if v, ok := r.Fields[c.Name]; ok {
		return v, true
	}
	switch c.Name { // plain documents keep these in the record itself
	case "source":
		return r.Source, true
	case "url":
		return r.URL, true
	case "timestamp":
		return r.Timestamp, true
	case "text":
		return r.Text, true
	case ColInputIDs:
		if r.Tokens != nil {
			return r.Tokens, true
		}
	}
	return nil, false
}

// extract reads every column of r into rv, reusing its maps.
func (rv *rowValues) extract(r *flow.Record, l *Layout) error {
	if n := len(l.Columns); len(rv.strings) != n {
		rv.strings, rv.ints, rv.lists, rv.bytes = make([]string, n), make([]int32, n), make([][]int32, n), make([][]byte, n)
	}
	for i, c := range l.Columns {
		v, ok := valueOf(r, c)
		if !ok {
			return fmt.Errorf("record %s has no %q column", r.ID, c.Name)
		}
		switch c.Kind {
		case KindString:
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("record %s: column %q is %T, want string", r.ID, c.Name, v)
			}
			rv.strings[i] = s
		case KindInt32:
			n, err := toInt32(v)
			if err != nil {
				return fmt.Errorf("record %s: column %q: %w", r.ID, c.Name, err)
			}
			rv.ints[i] = n
		case KindInt32List:
			ids, ok := v.([]int32)
			if !ok {
				return fmt.Errorf("record %s: column %q is %T, want []int32", r.ID, c.Name, v)
			}
			if c.Width > 0 && len(ids) != c.Width {
				return fmt.Errorf("record %s: column %q has %d values, the layout says %d", r.ID, c.Name, len(ids), c.Width)
			}
			rv.lists[i] = ids
		case KindBinary:
			b, ok := v.([]byte)
			if !ok {
				return fmt.Errorf("record %s: column %q is %T, want []byte", r.ID, c.Name, v)
			}
			rv.bytes[i] = b
		}
	}
	return nil
}

func toInt32(v any) (int32, error) {
	switch n := v.(type) {
	case int32:
		return n, nil
	case int:
		if n < math.MinInt32 || n > math.MaxInt32 {
			return 0, fmt.Errorf("%d does not fit in int32", n)
		}
		return int32(n), nil
	case int64:
		if n < math.MinInt32 || n > math.MaxInt32 {
			return 0, fmt.Errorf("%d does not fit in int32", n)
		}
		return int32(n), nil
	}
	return 0, fmt.Errorf("%T is not an integer", v)
}

// contentHasher hashes rows' values in a fixed encoding (length-prefixed
// little-endian), independent of Arrow's layout and compression.
type contentHasher struct {
	digest  *xxhash.Digest
	scratch []byte
}

func newContentHasher() *contentHasher { return &contentHasher{digest: xxhash.New()} }

func (h *contentHasher) addRow(l *Layout, rv *rowValues) {
	b := h.scratch[:0]
	for i, c := range l.Columns {
		switch c.Kind {
		case KindString:
			s := rv.strings[i]
			b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
			b = append(b, s...)
		case KindInt32:
			b = binary.LittleEndian.AppendUint32(b, uint32(rv.ints[i]))
		case KindInt32List:
			ids := rv.lists[i]
			b = binary.LittleEndian.AppendUint64(b, uint64(len(ids)))
			for _, id := range ids {
				b = binary.LittleEndian.AppendUint32(b, uint32(id))
			}
		case KindBinary:
			b = binary.LittleEndian.AppendUint64(b, uint64(len(rv.bytes[i])))
			b = append(b, rv.bytes[i]...)
		}
	}
	h.digest.Write(b)
	h.scratch = b
}

func (h *contentHasher) sum() string { return fmt.Sprintf("%016x", h.digest.Sum64()) }

func (h *contentHasher) reset() { h.digest.Reset() }
