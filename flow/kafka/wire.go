package kafka

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"sync"

	"github.com/corpusflow/corpusflow/flow"
)

// Wire format, version 1.
//
// One Kafka message value is one frame. Integers are unsigned LEB128 varints
// ("uvarint") unless said otherwise; "zigzag" is a signed varint; a string or
// byte slice is a uvarint length followed by its bytes. Kafka compresses
// message batches (zstd), so the format only avoids redundancy that a
// general-purpose compressor handles badly (per-record field names, decimal
// numbers).
//
//	frame    = 'C' 'F' version:byte kind:byte body
//	           (kind|0x80: body is zstd-compressed, kind|0x40: S2; see
//	           compress.go)
//	version  = 1
//	kind 1, data frame:
//	  batch:uvarint   batch number in the stream (0, 1, 2, ...)
//	  part:uvarint    which part of the batch this frame holds (0 ≤ part < of)
//	  of:uvarint      how many parts the batch was split into, in all
//	  gather:uvarint  how many parts the receiving partition gets (ordered
//	                  consumers wait for this many before using the batch)
//	  flags:uvarint   bit 0: every kept record carries its partition key
//	                  bit 1: records are stubs, seq:uvarint only (probes and
//	                         answers of a bucketed stage, below)
//	                  bit 2: every record carries its buckets
//	                  bit 3: every record carries its buckets' answers
//	                  bit 4: every record carries how many answers it has
//	  n:uvarint, n × (pos:uvarint [key:8 bytes little-endian] [buckets]
//	                  [answers] [nanswers:uvarint] record)  kept records
//	  m:uvarint, m × (stage:string reason:string pos:uvarint record)  rejected
//	buckets  = n:uvarint, n × (band:uvarint key:8 bytes little-endian)
//	answers  = n:uvarint, n × (band:uvarint key:8 bytes full:byte
//	           k:uvarint, k × seq:uvarint)
//	kind 2, end of stream:
//	  batches:uvarint how many batches the stream has
//
//	record   = seq:uvarint id:string text:string url:string timestamp:string
//	           source:string tokens meta:map fields:map
//	tokens   = n:uvarint, n × zigzag
//	map      = 0 (nil) | n+1:uvarint, n × (key:string value), keys sorted
//	value    = tag:byte payload, tags:
//	  0 nil  1 false  2 true  3 int:zigzag  4 int64:zigzag  5 int32:zigzag
//	  6 uint64:uvarint  7 float64:8 bytes little-endian IEEE 754
//	  8 float32:4 bytes  9 string  10 []byte  11 []int32 (n, n×zigzag)
//	  12 []int64 (n, n×zigzag)  13 []float32 (n, n×4 bytes)
//	  14 []float64 (n, n×8 bytes)  15 []string (n, n×string)
//	  16 []any (n, n×value)  17 map[string]any (map)  18 uint32:uvarint
//	  19 []int (n, n×zigzag)  20 []uint32 (n, n×uvarint)  21 []bool (n, n×byte)
//	  22 int8 zigzag  23 int16 zigzag  24 uint8 byte  25 uint16 uvarint
//	  26 uint uvarint  27 []int8 (n, n×byte)  28 []int16 (n, n×zigzag)
//	  29 []uint16 (n, n×uvarint)  30 []uint64 (n, n×uvarint)
//	  31 JSON text (string) of any other value; it decodes as encoding/json
//	     decodes into any, so its Go type changes (numbers become float64)
//	  32 a value of a type registered with flow.RegisterWireType:
//	     name:string json:string; it decodes into the registered type, and
//	     equal encodings decode to one shared value
//
// pos is a record's index in its batch before the batch was split by key, so
// the consumer that gathers the parts restores the order the records had.
//
// A bucketed stage (flow.BucketPartitioner, MinHash LSH) gets three kinds of
// frames: the sender sends its owners stub records with their buckets
// (flags 1+2) and the stage's joiner the full records with their answer
// count (flag 4); the owners send the joiner stubs with answers (flags 1+3).
// A decoder rejects a frame whose magic or version it does not know, and
// every count is checked against the bytes left, so a corrupt frame is an
// error, never a panic or a huge allocation.

const (
	wireVersion   = 1
	kindData      = 1
	kindEnd       = 2
	frameHeaderSz = 4
)

// frame is a decoded Kafka message value.
type frame struct {
	kind    byte
	batch   uint64
	part    uint64
	of      uint64
	gather  uint64
	records []posRecord
	rejects []posRejection
	keyed   bool // records carry their partition key
	// flags beyond keyed, for bucketed stages (frameStub ...).
	flags uint64
	// batches is the stream's batch count, in an end-of-stream frame.
	batches uint64
}

type posRecord struct {
	pos uint64
	r   *flow.Record
	// key is the partition key the sender computed (frame flag keyed), so a
	// keyed stage need not compute it again.
	key uint64
	// buckets are the record's buckets that the receiving owner holds, and
	// answers what owners answered for them (bucketed stages).
	buckets []flow.BucketKey
	answers []flow.BucketAnswer
	// nAnswers is how many answers the joiner must gather for the record.
	nAnswers int
}

// Frame flag bits.
const (
	frameKeyed    = 1 << 0 // kept records carry their partition key
	frameStub     = 1 << 1 // records are stubs: seq only
	frameBuckets  = 1 << 2 // records carry buckets
	frameAnswers  = 1 << 3 // records carry answers
	frameNAnswers = 1 << 4 // records carry their answer count
	frameFlags    = frameKeyed | frameStub | frameBuckets | frameAnswers | frameNAnswers
)

type posRejection struct {
	pos uint64
	rej flow.Rejection
}

// appendFrame encodes f after dst.
func appendFrame(dst []byte, f *frame) ([]byte, error) {
	dst = append(dst, 'C', 'F', wireVersion, f.kind)
	switch f.kind {
	case kindEnd:
		return binary.AppendUvarint(dst, f.batches), nil
	case kindData:
	default:
		return nil, fmt.Errorf("frame kind %d", f.kind)
	}
	dst = binary.AppendUvarint(dst, f.batch)
	dst = binary.AppendUvarint(dst, f.part)
	dst = binary.AppendUvarint(dst, f.of)
	dst = binary.AppendUvarint(dst, f.gather)
	flags := f.flags &^ frameKeyed
	if f.keyed {
		flags |= frameKeyed
	}
	dst = binary.AppendUvarint(dst, flags)
	dst = binary.AppendUvarint(dst, uint64(len(f.records)))
	var err error
	for _, pr := range f.records {
		dst = binary.AppendUvarint(dst, pr.pos)
		if f.keyed {
			dst = binary.LittleEndian.AppendUint64(dst, pr.key)
		}
		if flags&frameBuckets != 0 {
			dst = binary.AppendUvarint(dst, uint64(len(pr.buckets)))
			for _, k := range pr.buckets {
				dst = appendBucketKey(dst, k)
			}
		}
		if flags&frameAnswers != 0 {
			dst = binary.AppendUvarint(dst, uint64(len(pr.answers)))
			for _, a := range pr.answers {
				dst = appendBucketKey(dst, a.BucketKey)
				full := byte(0)
				if a.Full {
					full = 1
				}
				dst = append(dst, full)
				dst = binary.AppendUvarint(dst, uint64(len(a.Earlier)))
				for _, seq := range a.Earlier {
					dst = binary.AppendUvarint(dst, seq)
				}
			}
		}
		if flags&frameNAnswers != 0 {
			dst = binary.AppendUvarint(dst, uint64(pr.nAnswers))
		}
		if flags&frameStub != 0 {
			dst = binary.AppendUvarint(dst, pr.r.Seq())
			continue
		}
		if dst, err = appendRecord(dst, pr.r); err != nil {
			return nil, fmt.Errorf("record %s: %w", pr.r.ID, err)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(f.rejects)))
	for _, pj := range f.rejects {
		dst = appendString(dst, pj.rej.Stage)
		dst = appendString(dst, pj.rej.Reason)
		dst = binary.AppendUvarint(dst, pj.pos)
		if dst, err = appendRecord(dst, pj.rej.Record); err != nil {
			return nil, fmt.Errorf("rejected record %s: %w", pj.rej.Record.ID, err)
		}
	}
	return dst, nil
}

func appendBucketKey(dst []byte, k flow.BucketKey) []byte {
	dst = binary.AppendUvarint(dst, uint64(k.Band))
	return binary.LittleEndian.AppendUint64(dst, k.Key)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendRecord(dst []byte, r *flow.Record) ([]byte, error) {
	dst = binary.AppendUvarint(dst, r.Seq())
	dst = appendString(dst, r.ID)
	dst = appendString(dst, r.Text)
	dst = appendString(dst, r.URL)
	dst = appendString(dst, r.Timestamp)
	dst = appendString(dst, r.Source)
	dst = appendTokens(dst, r.Tokens)
	var err error
	if dst, err = appendMap(dst, r.Meta); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if dst, err = appendMap(dst, r.Fields); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	return dst, nil
}

// appendTokens writes n and n zigzag varints. Token ids are small (most take
// 2 bytes), so the loop writes bytes itself instead of calling
// binary.AppendVarint per token; the encoding is the same.
func appendTokens(dst []byte, tokens []int32) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(tokens)))
	dst = slices.Grow(dst, 5*len(tokens)) // 5 bytes: the longest int32 zigzag
	for _, t := range tokens {
		u := uint32(t<<1) ^ uint32(t>>31)
		for u >= 0x80 {
			dst = append(dst, byte(u)|0x80)
			u >>= 7
		}
		dst = append(dst, byte(u))
	}
	return dst
}

func appendMap(dst []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(dst, 0), nil
	}
	dst = binary.AppendUvarint(dst, uint64(len(m))+1)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // same record, same bytes
	var err error
	for _, k := range keys {
		dst = appendString(dst, k)
		if dst, err = appendValue(dst, m[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return dst, nil
}

func appendZigzags[T int | int8 | int16 | int32 | int64](dst []byte, tag byte, xs []T) []byte {
	dst = append(dst, tag)
	dst = binary.AppendUvarint(dst, uint64(len(xs)))
	for _, x := range xs {
		dst = binary.AppendVarint(dst, int64(x))
	}
	return dst
}

func appendUvarints[T uint16 | uint32 | uint64](dst []byte, tag byte, xs []T) []byte {
	dst = append(dst, tag)
	dst = binary.AppendUvarint(dst, uint64(len(xs)))
	for _, x := range xs {
		dst = binary.AppendUvarint(dst, uint64(x))
	}
	return dst
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, 0), nil
	case bool:
		if x {
			return append(dst, 2), nil
		}
		return append(dst, 1), nil
	case int:
		return binary.AppendVarint(append(dst, 3), int64(x)), nil
	case int64:
		return binary.AppendVarint(append(dst, 4), x), nil
	case int32:
		return binary.AppendVarint(append(dst, 5), int64(x)), nil
	case uint64:
		return binary.AppendUvarint(append(dst, 6), x), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, 7), math.Float64bits(x)), nil
	case float32:
		return binary.LittleEndian.AppendUint32(append(dst, 8), math.Float32bits(x)), nil
	case string:
		return appendString(append(dst, 9), x), nil
	case []byte:
		return appendString(append(dst, 10), string(x)), nil
	case []int32:
		return appendZigzags(dst, 11, x), nil
	case []int64:
		return appendZigzags(dst, 12, x), nil
	case []float32:
		dst = binary.AppendUvarint(append(dst, 13), uint64(len(x)))
		for _, f := range x {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
		}
		return dst, nil
	case []float64:
		dst = binary.AppendUvarint(append(dst, 14), uint64(len(x)))
		for _, f := range x {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
		}
		return dst, nil
	case []string:
		dst = binary.AppendUvarint(append(dst, 15), uint64(len(x)))
		for _, s := range x {
			dst = appendString(dst, s)
		}
		return dst, nil
	case []any:
		dst = binary.AppendUvarint(append(dst, 16), uint64(len(x)))
		var err error
		for i, e := range x {
			if dst, err = appendValue(dst, e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return dst, nil
	case map[string]any:
		return appendMap(append(dst, 17), x)
	case uint32:
		return binary.AppendUvarint(append(dst, 18), uint64(x)), nil
	case []int:
		return appendZigzags(dst, 19, x), nil
	case []uint32:
		return appendUvarints(dst, 20, x), nil
	case []bool:
		dst = binary.AppendUvarint(append(dst, 21), uint64(len(x)))
		for _, b := range x {
			if b {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
		return dst, nil
	case int8:
		return binary.AppendVarint(append(dst, 22), int64(x)), nil
	case int16:
		return binary.AppendVarint(append(dst, 23), int64(x)), nil
	case uint8:
		return append(dst, 24, x), nil
	case uint16:
		return binary.AppendUvarint(append(dst, 25), uint64(x)), nil
	case uint:
		return binary.AppendUvarint(append(dst, 26), uint64(x)), nil
	case []int8:
		dst = binary.AppendUvarint(append(dst, 27), uint64(len(x)))
		for _, b := range x {
			dst = append(dst, byte(b))
		}
		return dst, nil
	case []int16:
		return appendZigzags(dst, 28, x), nil
	case []uint16:
		return appendUvarints(dst, 29, x), nil
	case []uint64:
		return appendUvarints(dst, 30, x), nil
	}
	if name, ok := flow.WireTypeOf(v); ok {
		js, err := registeredJSON(v)
		if err != nil {
			return nil, fmt.Errorf("value of type %T (%s): %w", v, name, err)
		}
		return appendString(appendString(append(dst, 32), name), string(js)), nil
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value of type %T cannot be sent between workers: %w", v, err)
	}
	return appendString(append(dst, 31), string(js)), nil
}

// Registered values are shared by many records (one layout for every
// example), so both directions cache: the encoder by value, the decoder by
// encoding, which also gives every decoded record the same value back.
// Both caches are bounded; past the bound values are simply not cached.
const maxCachedWireValues = 1024

var wireCache = struct {
	sync.Mutex
	encoded map[any][]byte
	decoded map[string]any
}{encoded: map[any][]byte{}, decoded: map[string]any{}}

func registeredJSON(v any) ([]byte, error) {
	comparable := reflect.TypeOf(v).Comparable()
	if comparable {
		wireCache.Lock()
		js, ok := wireCache.encoded[v]
		wireCache.Unlock()
		if ok {
			return js, nil
		}
	}
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if comparable {
		wireCache.Lock()
		if len(wireCache.encoded) < maxCachedWireValues {
			wireCache.encoded[v] = js
		}
		wireCache.Unlock()
	}
	return js, nil
}

func decodeRegistered(name string, js []byte) (any, error) {
	key := name + "\x00" + string(js)
	wireCache.Lock()
	v, ok := wireCache.decoded[key]
	wireCache.Unlock()
	if ok {
		return v, nil
	}
	v, err := flow.DecodeWireValue(name, js)
	if err != nil {
		return nil, err
	}
	wireCache.Lock()
	if len(wireCache.decoded) < maxCachedWireValues {
		wireCache.decoded[key] = v
	}
	wireCache.Unlock()
	return v, nil
}

// errCorrupt wraps every decoding problem.
var errCorrupt = errors.New("corrupt frame")

// maxNesting bounds []any and map nesting so a hostile frame cannot exhaust
// the stack.
const maxNesting = 64

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that needs at least minBytes bytes per element.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/max(minBytes, 1)) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) fixed(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// decodeFrame parses one Kafka message value.
func decodeFrame(b []byte) (*frame, error) {
	if len(b) < frameHeaderSz || b[0] != 'C' || b[1] != 'F' {
		return nil, fmt.Errorf("%w: not a corpusflow frame (bad magic)", errCorrupt)
	}
	if b[2] != wireVersion {
		return nil, fmt.Errorf("%w: wire version %d, this binary reads version %d (upgrade every worker together)", errCorrupt, b[2], wireVersion)
	}
	if b[3]&kindCompressed != 0 {
		raw, err := decompressFrame(b)
		if err != nil {
			return nil, err
		}
		defer frameBuffers.put(raw)
		b = *raw
	}
	f := &frame{kind: b[3]}
	d := &decoder{b: b[frameHeaderSz:]}
	switch f.kind {
	case kindEnd:
		f.batches = d.uvarint()
	case kindData:
		f.batch = d.uvarint()
		f.part = d.uvarint()
		f.of = d.uvarint()
		f.gather = d.uvarint()
		if d.err == nil && (f.of == 0 || f.part >= f.of || f.gather > f.of) {
			d.fail("part %d of %d, gather %d", f.part, f.of, f.gather)
		}
		flags := d.uvarint()
		if d.err == nil && flags&^frameFlags != 0 {
			d.fail("unknown frame flags %#x", flags)
		}
		f.keyed = flags&frameKeyed != 0
		f.flags = flags &^ frameKeyed
		minRecord := 8
		if flags&frameStub != 0 {
			minRecord = 2
		}
		n := d.count(minRecord)
		if n > 0 {
			f.records = make([]posRecord, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			pr := posRecord{pos: d.uvarint()}
			if f.keyed {
				if b := d.fixed(8); b != nil {
					pr.key = binary.LittleEndian.Uint64(b)
				}
			}
			if flags&frameBuckets != 0 {
				if k := d.count(9); k > 0 {
					pr.buckets = make([]flow.BucketKey, k)
					for j := range pr.buckets {
						pr.buckets[j] = d.bucketKey()
					}
				}
			}
			if flags&frameAnswers != 0 {
				if k := d.count(11); k > 0 {
					pr.answers = make([]flow.BucketAnswer, k)
					for j := range pr.answers {
						pr.answers[j] = d.bucketAnswer()
					}
				}
			}
			if flags&frameNAnswers != 0 {
				pr.nAnswers = d.count(0)
			}
			if flags&frameStub != 0 {
				pr.r = &flow.Record{}
				pr.r.SetSeq(d.uvarint())
			} else {
				pr.r = d.record()
			}
			f.records[i] = pr
		}
		m := d.count(10)
		if m > 0 {
			f.rejects = make([]posRejection, m)
		}
		for i := 0; i < m && d.err == nil; i++ {
			stage, reason := d.string(), d.string()
			pos := d.uvarint()
			f.rejects[i] = posRejection{pos: pos, rej: flow.Rejection{Stage: stage, Reason: reason, Record: d.record()}}
		}
	default:
		return nil, fmt.Errorf("%w: unknown frame kind %d", errCorrupt, f.kind)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes after the end of the frame", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return f, nil
}

func (d *decoder) bucketKey() flow.BucketKey {
	band := d.uvarint()
	if d.err == nil && band > math.MaxInt32 {
		d.fail("band %d", band)
	}
	k := flow.BucketKey{Band: int(band)}
	if b := d.fixed(8); b != nil {
		k.Key = binary.LittleEndian.Uint64(b)
	}
	return k
}

func (d *decoder) bucketAnswer() flow.BucketAnswer {
	a := flow.BucketAnswer{BucketKey: d.bucketKey()}
	switch full := d.byte(); full {
	case 0:
	case 1:
		a.Full = true
	default:
		d.fail("answer full flag %d", full)
	}
	if k := d.count(1); k > 0 {
		a.Earlier = make([]uint64, k)
		for i := range a.Earlier {
			a.Earlier[i] = d.uvarint()
		}
	}
	return a
}

func (d *decoder) record() *flow.Record {
	r := &flow.Record{}
	r.SetSeq(d.uvarint())
	r.ID = d.string()
	r.Text = d.string()
	r.URL = d.string()
	r.Timestamp = d.string()
	r.Source = d.string()
	if n := d.count(1); n > 0 {
		r.Tokens = d.tokens(n)
	}
	r.Meta = d.mapValue(0)
	r.Fields = d.mapValue(0)
	return r
}

// tokens reads n zigzag varints (appendTokens) in one loop over the bytes.
// A value that does not fit an int32 is corrupt, as are truncated bytes.
func (d *decoder) tokens(n int) []int32 {
	xs := make([]int32, n)
	b := d.b
	for i := range xs {
		var u uint32
		var shift uint
		for j := 0; ; j++ {
			if j == len(b) || j == 5 {
				d.fail("bad token varint")
				return nil
			}
			c := b[j]
			u |= uint32(c&0x7f) << shift
			if c < 0x80 {
				if j == 4 && c > 0x0f {
					d.fail("token varint overflows int32")
					return nil
				}
				b = b[j+1:]
				break
			}
			shift += 7
		}
		xs[i] = int32(u>>1) ^ -int32(u&1)
	}
	d.b = b
	return xs
}

func (d *decoder) mapValue(depth int) map[string]any {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	n--
	if n > uint64(len(d.b)/2) {
		d.fail("map of %d entries in %d bytes", n, len(d.b))
		return nil
	}
	m := make(map[string]any, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.string()
		m[k] = d.value(depth + 1)
	}
	return m
}

func zigzags[T int | int8 | int16 | int32 | int64](d *decoder) []T {
	n := d.count(1)
	xs := make([]T, n)
	for i := range xs {
		xs[i] = T(d.varint())
	}
	return xs
}

func uvarints[T uint16 | uint32 | uint64](d *decoder) []T {
	n := d.count(1)
	xs := make([]T, n)
	for i := range xs {
		xs[i] = T(d.uvarint())
	}
	return xs
}

func (d *decoder) value(depth int) any {
	if depth > maxNesting {
		d.fail("values nested more than %d deep", maxNesting)
		return nil
	}
	switch tag := d.byte(); tag {
	case 0:
		return nil
	case 1:
		return false
	case 2:
		return true
	case 3:
		return int(d.varint())
	case 4:
		return d.varint()
	case 5:
		return int32(d.varint())
	case 6:
		return d.uvarint()
	case 7:
		if b := d.fixed(8); b != nil {
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
	case 8:
		if b := d.fixed(4); b != nil {
			return math.Float32frombits(binary.LittleEndian.Uint32(b))
		}
	case 9:
		return d.string()
	case 10:
		return append([]byte(nil), d.bytes()...)
	case 11:
		return zigzags[int32](d)
	case 12:
		return zigzags[int64](d)
	case 13:
		n := d.count(4)
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.fixed(4)))
		}
		return xs
	case 14:
		n := d.count(8)
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(d.fixed(8)))
		}
		return xs
	case 15:
		n := d.count(1)
		xs := make([]string, n)
		for i := range xs {
			xs[i] = d.string()
		}
		return xs
	case 16:
		n := d.count(1)
		xs := make([]any, n)
		for i := 0; i < n && d.err == nil; i++ {
			xs[i] = d.value(depth + 1)
		}
		return xs
	case 17:
		m := d.mapValue(depth)
		if m == nil && d.err == nil {
			return map[string]any(nil)
		}
		return m
	case 18:
		return uint32(d.uvarint())
	case 19:
		return zigzags[int](d)
	case 20:
		return uvarints[uint32](d)
	case 21:
		n := d.count(1)
		xs := make([]bool, n)
		for i := range xs {
			xs[i] = d.byte() != 0
		}
		return xs
	case 22:
		return int8(d.varint())
	case 23:
		return int16(d.varint())
	case 24:
		return d.byte()
	case 25:
		return uint16(d.uvarint())
	case 26:
		return uint(d.uvarint())
	case 27:
		b := d.bytes()
		xs := make([]int8, len(b))
		for i, c := range b {
			xs[i] = int8(c)
		}
		return xs
	case 28:
		return zigzags[int16](d)
	case 29:
		return uvarints[uint16](d)
	case 30:
		return uvarints[uint64](d)
	case 31:
		js := d.bytes()
		if d.err != nil {
			return nil
		}
		var v any
		if err := json.Unmarshal(js, &v); err != nil {
			d.fail("JSON value: %v", err)
			return nil
		}
		return v
	case 32:
		name, js := d.string(), d.bytes()
		if d.err != nil {
			return nil
		}
		v, err := decodeRegistered(name, js)
		if err != nil {
			d.fail("registered value: %v", err)
			return nil
		}
		return v
	default:
		d.fail("unknown value tag %d", tag)
	}
	return nil
}
