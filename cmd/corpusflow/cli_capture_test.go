package main

import (
	"os"
	"path/filepath"
	"testing"
)

// runCLI runs the binary's dispatch with args, feeding stdin and capturing
// what the command writes to standard output and standard error (the
// commands write to os.Stdout and os.Stderr, which are swapped for files
// for the duration; the package's tests do not run in parallel).
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "stdin")
	if err := os.WriteFile(in, []byte(stdin), 0o644); err != nil {
		t.Fatal(err)
	}
	inFile, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer inFile.Close()
	outFile, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	errFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()

	saved := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	os.Stdin, os.Stdout, os.Stderr = inFile, outFile, errFile
	func() {
		defer func() { os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2] }()
		code = dispatch(args)
	}()
	o, err := os.ReadFile(outFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	e, err := os.ReadFile(errFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	return code, string(o), string(e)
}
