package trainer

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTorchParity builds a case (initial weights, one masked batch, the Go
// loss and every gradient in float32 and float64), then has
// parity/torch_bert.py rebuild the model in PyTorch from the safetensors
// weights and compare: float32 within 1e-4 relative (per tensor norm),
// float64 within 1e-9. Set CORPUSFLOW_PARITY_DIR to keep the case files.
// It needs python3 with torch (Debian: python3-torch); without it the test
// says so and skips.
func TestTorchParity(t *testing.T) {
	py := torchPython(t)
	for _, nsp := range []bool{false, true} {
		name := "mlm"
		if nsp {
			name = "mlm+nsp"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if keep := os.Getenv("CORPUSFLOW_PARITY_DIR"); keep != "" {
				dir = filepath.Join(keep, name)
				os.MkdirAll(dir, 0o755)
			}
			writeParityCase(t, dir, nsp)
			out, err := exec.Command(py, "parity/torch_bert.py", "parity", dir).CombinedOutput()
			t.Logf("%s", out)
			if err != nil {
				t.Fatalf("parity failed: %v", err)
			}
		})
	}
}

func torchPython(t *testing.T) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(py, "-c", "import torch, numpy").Run(); err == nil {
			return py
		}
	}
	t.Fatal("no python3 with torch and numpy: run scripts/test-deps.sh (it installs Debian's python3-torch), or the PyTorch parity check cannot run")
	return ""
}

// parityBatch is 4 sequences of 32 real-vocabulary ids with padding, two
// segments and dynamic masking.
func parityBatch(t *testing.T, v *Vocab, nsp bool) *Batch {
	var exs []Example
	for r := 0; r < 4; r++ {
		ids := []int32{v.CLS}
		types := []int32{0}
		n := 32 - 5*(r%2) // two of the sequences end in padding
		for i := 1; i < n-1; i++ {
			ids = append(ids, int32(1996+(r*131+i*37)%20000))
			seg := int32(0)
			if i > n/2 {
				seg = 1
			}
			types = append(types, seg)
		}
		ids, types = append(ids, v.SEP), append(types, 1)
		for len(ids) < 32 {
			ids, types = append(ids, v.PAD), append(types, 0)
		}
		exs = append(exs, Example{InputIDs: ids, TokenTypeIDs: types, NSPLabel: r % 2, Key: ExampleKey{Row: r}})
	}
	masker, _ := NewMasker(DefaultMasking(), v)
	cfg := TinyConfig(v.Size)
	cfg.NSP = nsp
	col := &collator{masker: masker, vocab: v, cfg: cfg}
	b, err := col.collate(exs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeParityCase(t *testing.T, dir string, nsp bool) {
	v, err := ReadVocab("testdata/bert-base-uncased-vocab.txt")
	if err != nil {
		t.Fatal(err)
	}
	cfg := TinyConfig(v.Size)
	cfg.NSP = nsp
	m32, err := NewModel[float32](cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	b := parityBatch(t, v, nsp)
	var weights []NamedTensor
	for _, p := range m32.Params() {
		weights = append(weights, NamedTensor{Name: p.Name, Shape: p.Shape, Data: p.W})
	}
	if err := WriteSafetensors(filepath.Join(dir, "model.safetensors"), weights, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := cfg.WriteHFConfig(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	// The float64 model starts from the same float32 weights.
	m64, _ := NewModel[float64](cfg, 5)
	for i, p := range m64.Params() {
		for j, w := range m32.Params()[i].W {
			p.W[j] = float64(w)
		}
	}
	m32.ZeroGrad()
	r32, err := m32.ForwardBackward(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	m64.ZeroGrad()
	r64, _ := m64.ForwardBackward(b, 1)
	var g32, g64 []NamedTensor
	for i, p := range m32.Params() {
		g32 = append(g32, NamedTensor{Name: p.Name, Shape: p.Shape, Data: p.G})
		q := m64.Params()[i]
		g64 = append(g64, NamedTensor{Name: q.Name, Shape: q.Shape, Data64: q.G})
	}
	if err := WriteSafetensors(filepath.Join(dir, "grads32.safetensors"), g32, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteSafetensors(filepath.Join(dir, "grads64.safetensors"), g64, nil); err != nil {
		t.Fatal(err)
	}
	types := b.TokenTypes
	batch := map[string]any{"b": b.B, "s": b.S, "input_ids": b.InputIDs, "token_types": types, "valid": b.Valid,
		"masked_pos": b.MaskedPos, "masked_labels": b.MaskedLabels}
	if nsp {
		batch["nsp_labels"] = b.NSPLabels
	}
	writeJSON(t, filepath.Join(dir, "batch.json"), batch)
	writeJSON(t, filepath.Join(dir, "result.json"), map[string]float64{"loss32": r32.Loss(), "loss64": r64.Loss()})
	if strings.Contains(dir, os.TempDir()) {
		return
	}
	t.Logf("parity case kept in %s", dir)
}

func writeJSON(t *testing.T, path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
