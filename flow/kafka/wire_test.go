package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

type wireLayout struct {
	Columns []string
	Width   int
}

func init() { flow.RegisterWireType[*wireLayout]("kafka_test.layout") }

func sampleRecord(seq uint64) *flow.Record {
	r := &flow.Record{ID: "warc:<urn:uuid:1>", Text: "héllo 世界\n", URL: "https://example.org/?q=1", Timestamp: "2024-01-01T00:00:00Z",
		Source: "a.warc.gz", Tokens: []int32{101, 0, -100, math.MaxInt32, math.MinInt32}}
	r.SetSeq(seq)
	r.Meta = map[string]any{
		"nil": nil, "t": true, "f": false, "int": -42, "int64": int64(math.MinInt64), "int32": int32(7), "uint64": uint64(math.MaxUint64),
		"f64": 3.25, "f32": float32(1.5), "s": "x", "bytes": []byte{0, 1, 255}, "i32s": []int32{1, -2}, "i64s": []int64{3, -4},
		"f32s": []float32{0.5}, "f64s": []float64{-0.25, math.Inf(1)}, "strs": []string{"a", ""}, "any": []any{"a", 1.0, []any{true}},
		"map": map[string]any{"k": "v", "n": map[string]any{}}, "u32": uint32(9), "ints": []int{5, -6}, "u32s": []uint32{7},
		"bools": []bool{true, false}, "i8": int8(-8), "i16": int16(-16), "u8": uint8(200), "u16": uint16(65000), "uint": uint(11),
		"i8s": []int8{-1, 2}, "i16s": []int16{-300}, "u16s": []uint16{400}, "u64s": []uint64{1 << 63},
	}
	r.Fields = map[string]any{"input_ids": []int32{1, 2, 3}, "length": int64(3), "_layout": &wireLayout{Columns: []string{"input_ids"}, Width: 128}}
	return r
}

// bucketedFrames are the three frames of a bucketed stage: probes to an
// owner, records to the joiner, answers from an owner.
func bucketedFrames() []*frame {
	stub := func(seq uint64) *flow.Record {
		r := &flow.Record{}
		r.SetSeq(seq)
		return r
	}
	return []*frame{
		{kind: kindData, batch: 3, part: 5, of: 6, gather: 2, flags: frameStub | frameBuckets, records: []posRecord{
			{pos: 0, r: stub(40), buckets: []flow.BucketKey{{Band: 0, Key: 1<<64 - 1}, {Band: 13, Key: 7}}},
			{pos: 2, r: stub(42)}}},
		{kind: kindData, batch: 3, part: 1, of: 5, gather: 5, flags: frameNAnswers, records: []posRecord{
			{pos: 0, r: sampleRecord(40), nAnswers: 14}, {pos: 2, r: &flow.Record{ID: "no tokens"}}},
			rejects: []posRejection{{pos: 1, rej: flow.Rejection{Stage: "c4", Reason: "too_short", Record: sampleRecord(41)}}}},
		{kind: kindData, batch: 3, part: 4, of: 5, gather: 5, flags: frameStub | frameAnswers, records: []posRecord{
			{pos: 0, r: stub(40), answers: []flow.BucketAnswer{
				{BucketKey: flow.BucketKey{Band: 2, Key: 99}, Earlier: []uint64{1, 1 << 50}, Full: true},
				{BucketKey: flow.BucketKey{Band: 5, Key: 0}}}}}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	frames := []*frame{
		{kind: kindEnd, batches: 12345},
		{kind: kindData, batch: 7, part: 3, of: 4, gather: 1},
		{kind: kindData, batch: 1 << 40, part: 0, of: 1, gather: 1,
			records: []posRecord{{pos: 0, r: sampleRecord(99)}, {pos: 5, r: &flow.Record{ID: "empty"}}},
			rejects: []posRejection{{pos: 2, rej: flow.Rejection{Stage: "c4", Reason: "too_short", Record: sampleRecord(3)}}}},
	}
	frames = append(frames, bucketedFrames()...)
	for i, f := range frames {
		b, err := appendFrame(nil, f)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		got, err := decodeFrame(b)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("frame %d changed on the wire:\n got %#v\nwant %#v", i, got, f)
		}
		for j, pr := range got.records {
			if pr.r.Seq() != f.records[j].r.Seq() {
				t.Errorf("frame %d record %d: seq %d, want %d", i, j, pr.r.Seq(), f.records[j].r.Seq())
			}
		}
		// Same frame, same bytes: map keys are written sorted.
		again, _ := appendFrame(nil, got)
		if !bytes.Equal(again, b) {
			t.Errorf("frame %d: encoding is not deterministic", i)
		}
	}
}

// Message buffers are reused once kafka-go is done with a message: a frame
// encoded into a buffer that held a larger (or smaller) one decodes to
// itself, with every codec.
func TestMessageBufferReuse(t *testing.T) {
	big := &frame{kind: kindData, of: 1, gather: 1}
	for i := 0; i < 300; i++ {
		big.records = append(big.records, posRecord{pos: uint64(i), r: sampleRecord(uint64(i))})
	}
	small := &frame{kind: kindData, batch: 1, of: 1, gather: 1, records: []posRecord{{pos: 0, r: sampleRecord(7)}}}
	for _, codec := range []string{"", "zstd", "s2"} {
		p := &producer{compress: codec}
		for round, f := range []*frame{big, small, big, small, small, big} {
			value, pooled, _, err := p.encode(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeFrame(value)
			if err != nil {
				t.Fatalf("codec %q round %d: %v", codec, round, err)
			}
			want, _ := appendFrame(nil, f)
			if again, _ := appendFrame(nil, got); !bytes.Equal(again, want) {
				t.Fatalf("codec %q round %d: the frame changed in a reused buffer", codec, round)
			}
			// Scribble over the value, as a later frame would, before the
			// buffer goes back: the decoded frame must not share it.
			for j := range value {
				value[j] = 0xff
			}
			if again, _ := appendFrame(nil, got); !bytes.Equal(again, want) {
				t.Fatalf("codec %q round %d: the decoded frame shares the message buffer", codec, round)
			}
			messageBuffers.put(pooled)
		}
	}
}

// A frame compressed by its producer (zstd or s2) decodes to the same
// frame, and a corrupt compressed body is a corrupt frame.
func TestCompressedFrames(t *testing.T) {
	frames := append([]*frame{
		{kind: kindEnd, batches: 9},
		{kind: kindData, batch: 4, part: 0, of: 1, gather: 1, records: []posRecord{{pos: 0, r: sampleRecord(1)}, {pos: 1, r: sampleRecord(2)}}},
	}, bucketedFrames()...)
	for _, codec := range []string{"zstd", "s2"} {
		p := &producer{compress: codec}
		flag := byte(kindZstd)
		if codec == "s2" {
			flag = kindS2
		}
		for i, f := range frames {
			value, pooled, size, err := p.encode(f)
			if err != nil {
				t.Fatal(err)
			}
			if pooled == nil || &(*pooled)[:1][0] != &value[:1][0] {
				t.Fatalf("%s frame %d: the value is not in its pooled buffer", codec, i)
			}
			raw, _ := appendFrame(nil, f)
			if size != len(raw) || value[3] != f.kind|flag || bytes.Equal(value, raw) {
				t.Fatalf("%s frame %d: size %d (raw %d), kind byte %#x", codec, i, size, len(raw), value[3])
			}
			got, err := decodeFrame(value)
			if err != nil {
				t.Fatalf("%s frame %d: %v", codec, i, err)
			}
			again, _ := appendFrame(nil, got)
			if !bytes.Equal(again, raw) {
				t.Errorf("%s frame %d changed through compression", codec, i)
			}
			messageBuffers.put(pooled) // the next frame may be compressed into it
		}
		good, _, _, _ := p.encode(frames[1])
		for name, b := range map[string][]byte{
			"garbage body": {'C', 'F', wireVersion, kindData | flag, 1, 2, 3, 4},
			"truncated":    good[:len(good)/2],
			"bad kind":     append([]byte{'C', 'F', wireVersion, 9 | flag}, good[4:]...),
			"both codecs":  append([]byte{'C', 'F', wireVersion, kindData | kindCompressed}, good[4:]...),
		} {
			if _, err := decodeFrame(b); !errors.Is(err, errCorrupt) {
				t.Errorf("%s %s: %v, want a corrupt-frame error", codec, name, err)
			}
		}
	}
}

func TestRegisteredValuesDecodeShared(t *testing.T) {
	l := &wireLayout{Columns: []string{"x"}}
	f := &frame{kind: kindData, of: 1, gather: 1}
	for i := 0; i < 3; i++ {
		f.records = append(f.records, posRecord{pos: uint64(i), r: &flow.Record{ID: "r", Fields: map[string]any{"_layout": l}}})
	}
	b, err := appendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	first := got.records[0].r.Fields["_layout"].(*wireLayout)
	if !reflect.DeepEqual(first, l) {
		t.Fatalf("layout %#v, want %#v", first, l)
	}
	for _, pr := range got.records[1:] {
		if pr.r.Fields["_layout"].(*wireLayout) != first {
			t.Error("equal registered values should decode to one shared value")
		}
	}
}

func TestUnregisteredTypeTravelsAsJSON(t *testing.T) {
	type point struct{ X, Y int }
	f := &frame{kind: kindData, of: 1, gather: 1, records: []posRecord{{r: &flow.Record{ID: "r", Meta: map[string]any{"p": point{1, 2}}}}}}
	b, err := appendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"X": 1.0, "Y": 2.0}
	if !reflect.DeepEqual(got.records[0].r.Meta["p"], want) {
		t.Errorf("got %#v, want %#v", got.records[0].r.Meta["p"], want)
	}
	bad := &frame{kind: kindData, of: 1, gather: 1, records: []posRecord{{r: &flow.Record{ID: "r", Meta: map[string]any{"c": make(chan int)}}}}}
	if _, err := appendFrame(nil, bad); err == nil {
		t.Error("a channel in Meta should be refused with an error")
	}
}

func TestCorruptFramesAreErrors(t *testing.T) {
	good, err := appendFrame(nil, &frame{kind: kindData, batch: 1, of: 2, part: 1, gather: 1,
		records: []posRecord{{pos: 0, r: sampleRecord(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":         {},
		"bad magic":     append([]byte("XX"), good[2:]...),
		"newer version": append([]byte{'C', 'F', 9}, good[3:]...),
		"unknown kind":  {'C', 'F', wireVersion, 7},
		"truncated":     good[:len(good)-3],
		"trailing":      append(append([]byte(nil), good...), 0),
		"part >= of":    {'C', 'F', wireVersion, kindData, 0, 5, 2, 1, 0, 0},
		"huge count":    {'C', 'F', wireVersion, kindData, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad tag":       {'C', 'F', wireVersion, kindData, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 99},
	}
	for name, b := range cases {
		if _, err := decodeFrame(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		} else if !errors.Is(err, errCorrupt) {
			t.Errorf("%s: error %v does not wrap errCorrupt", name, err)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range []*frame{
		{kind: kindEnd, batches: 3},
		{kind: kindData, batch: 2, part: 1, of: 3, gather: 1, records: []posRecord{{pos: 1, r: sampleRecord(5)}},
			rejects: []posRejection{{pos: 0, rej: flow.Rejection{Stage: "s", Reason: "r", Record: &flow.Record{ID: "x"}}}}},
	} {
		b, err := appendFrame(nil, fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, fr := range bucketedFrames() {
		b, err := appendFrame(nil, fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		for _, codec := range []string{"zstd", "s2"} {
			c, _, _, _ := (&producer{compress: codec}).encode(fr)
			f.Add(c)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		// Whatever decodes encodes again, and decodes to the same frame.
		again, err := appendFrame(nil, fr)
		if err != nil {
			t.Fatalf("re-encoding a decoded frame: %v", err)
		}
		fr2, err := decodeFrame(again)
		if err != nil {
			t.Fatalf("decoding a re-encoded frame: %v", err)
		}
		// Compare encodings, not values: NaN is not equal to itself.
		third, err := appendFrame(nil, fr2)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("round trip changed the frame (%v)", err)
		}
	})
}

// appendTokens writes what binary.AppendVarint wrote per token (the wire
// format is unchanged), and decoder.tokens reads it back; a token longer
// than 5 bytes or beyond int32, or cut short, is a corrupt frame.
func TestTokensEncoding(t *testing.T) {
	tokens := []int32{0, 1, -1, 63, 64, -64, -65, 101, 8191, 8192, 30521, 1 << 20, -(1 << 20), math.MaxInt32, math.MinInt32}
	var want []byte
	want = binary.AppendUvarint(want, uint64(len(tokens)))
	for _, tok := range tokens {
		want = binary.AppendVarint(want, int64(tok))
	}
	got := appendTokens(nil, tokens)
	if !bytes.Equal(got, want) {
		t.Fatalf("appendTokens wrote %x, binary.AppendVarint %x", got, want)
	}
	d := &decoder{b: append(got, 0x2a)}
	back := d.tokens(d.count(1))
	if d.err != nil || !slices.Equal(back, tokens) || !bytes.Equal(d.b, []byte{0x2a}) {
		t.Fatalf("decoded %v (err %v, %d bytes left), want %v", back, d.err, len(d.b), tokens)
	}
	for name, b := range map[string][]byte{
		"truncated":      {0x80, 0x80},
		"over int32":     {0xff, 0xff, 0xff, 0xff, 0x1f},
		"six bytes":      {0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
		"second cut off": {0x02, 0x80},
	} {
		d := &decoder{b: b}
		if xs := d.tokens(2); !errors.Is(d.err, errCorrupt) || xs != nil {
			t.Errorf("%s: got %v, %v; want a corrupt-frame error", name, xs, d.err)
		}
	}
}
