package trainer

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	in := []NamedTensor{
		{Name: "b.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 4, 5, 6}},
		{Name: "a.bias", Shape: []int{1}, Data: []float32{-0.25}},
		{Name: "scalar", Shape: []int{}, Data: []float32{7}},
	}
	if err := WriteSafetensors(path, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(raw); (8+n)%8 != 0 {
		t.Fatalf("data not 8-byte aligned: header %d", n)
	}
	got, meta, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || len(got) != 3 {
		t.Fatalf("meta %v, %d tensors", meta, len(got))
	}
	for _, want := range in {
		g := got[want.Name]
		if !slices.Equal(g.Shape, want.Shape) || !slices.Equal(g.Data, want.Data) {
			t.Fatalf("%s: got %v %v", want.Name, g.Shape, g.Data)
		}
	}
	// Same input, same bytes.
	path2 := filepath.Join(t.TempDir(), "m2.safetensors")
	WriteSafetensors(path2, in, map[string]string{"format": "pt"})
	raw2, _ := os.ReadFile(path2)
	if !slices.Equal(raw, raw2) {
		t.Fatal("two writes of the same tensors differ")
	}
}

func TestSafetensorsRejectsBadFiles(t *testing.T) {
	hdr := func(json string, data int) []byte {
		b := make([]byte, 8, 8+len(json)+data)
		binary.LittleEndian.PutUint64(b, uint64(len(json)))
		b = append(b, json...)
		return append(b, make([]byte, data)...)
	}
	cases := map[string][]byte{
		"short":        {1, 2},
		"huge header":  hdr("{}", 0)[:8],
		"not json":     hdr("{nope", 0),
		"f16":          hdr(`{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, 2),
		"range":        hdr(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4),
		"past end":     hdr(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4),
		"overlap":      hdr(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4),
		"trailing":     hdr(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8),
		"neg shape":    hdr(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"bad metadata": hdr(`{"__metadata__":{"a":1}}`, 0),
	}
	binary.LittleEndian.PutUint64(cases["huge header"], 1<<40)
	for name, b := range cases {
		if _, _, err := ParseSafetensors(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseSafetensors(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.safetensors")
	WriteSafetensors(path, []NamedTensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}, map[string]string{"k": "v"})
	seed, _ := os.ReadFile(path)
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, _, err := ParseSafetensors(b)
		if err != nil {
			return
		}
		for name, tt := range tensors {
			if shapeSize(tt.Shape) != len(tt.Data) {
				t.Fatalf("%s: shape %v with %d values", name, tt.Shape, len(tt.Data))
			}
		}
	})
}
