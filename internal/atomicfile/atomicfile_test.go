package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInvisibleUntilCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "out.txt")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("hello"))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("final name visible before Commit: %v", err)
	}
	if !IsTemp(f.TempName()) {
		t.Errorf("temporary %s lacks the prefix", f.TempName())
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("after Commit: %v %v", st, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("leftovers: %v", entries)
	}
	f.Abort() // after Commit: must not remove the file
	if _, err := os.Stat(path); err != nil {
		t.Fatal("Abort after Commit removed the file")
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "x"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half"))
	f.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("leftovers: %v", entries)
	}
}

func TestWriteFileReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.json")
	for _, s := range []string{"one", "two"} {
		if err := WriteFile(path, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "two" {
		t.Fatalf("got %q", b)
	}
}
