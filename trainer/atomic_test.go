package trainer

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// TestConcurrentSavesNeverMixFiles: the trainer's outputs go through
// internal/atomicfile, whose temporaries have unique names: two writers of
// one path (two runs sharing an output directory by mistake) leave one
// whole file, never a mix, a half file or a temporary behind. With one
// fixed PATH.tmp name they truncated each other's temporary and renamed it
// away under each other.
func TestConcurrentSavesNeverMixFiles(t *testing.T) {
	dir := t.TempDir()
	weights := filepath.Join(dir, "model.safetensors")
	summary := filepath.Join(dir, "train_summary.json")
	const writers = 6
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := make([]float32, 1<<18)
			for j := range data {
				data[j] = float32(i)
			}
			errs <- WriteSafetensors(weights, []NamedTensor{{Name: "w", Shape: []int{len(data)}, Data: data}}, nil)
			text := make([]byte, 1<<20)
			for j := range text {
				text[j] = byte('a' + i)
			}
			errs <- writeFileAtomic(summary, text)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tensors, _, err := ReadSafetensors(weights)
	if err != nil {
		t.Fatal(err)
	}
	w := tensors["w"].Data
	for _, v := range w {
		if v != w[0] {
			t.Fatalf("the weights mix the values %v and %v", w[0], v)
		}
	}
	text, _ := os.ReadFile(summary)
	if len(text) != 1<<20 {
		t.Fatalf("the summary has %d bytes, one writer wrote %d", len(text), 1<<20)
	}
	for _, c := range text {
		if c != text[0] {
			t.Fatalf("the summary mixes %q and %q", text[0], c)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		st, _ := e.Info()
		if atomicfile.IsTemp(e.Name()) || len(entries) != 2 || st.Mode().Perm() != 0o644 {
			t.Fatalf("left behind: %s (mode %v) among %d files", e.Name(), st.Mode().Perm(), len(entries))
		}
	}
}
