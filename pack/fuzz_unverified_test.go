package pack

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzInspectShardFile feeds damaged shard files to `corpusflow inspect
// FILE.arrow`: a file with no manifest beside it has no checksum to verify,
// so its bytes reach the Arrow decoder, which believes the sizes in them.
// The result must be a report or an error, never a panic, an allocation
// that kills the process or a long read (the decoder's allocator has a
// budget, budget.go; the seeds named after what they do are small files
// that decode to millions of rows).
//
// Stalls at 0 execs/s of up to a minute are Go minimizing a new input
// (-fuzzminimizetime, 60 s by default, reports its execs only at the end),
// not a slow input; -fuzzminimizetime 10s shortens them.
func FuzzInspectShardFile(f *testing.F) {
	for _, format := range []string{FormatFile, FormatStream} {
		for _, codec := range []string{"none", "zstd", "lz4"} {
			dir := f.TempDir()
			writeAll(f, WriterOptions{Dir: dir, Format: format, Compression: codec, BatchRows: 2}, testRecords(testLayout(3), 5))
			data, err := os.ReadFile(filepath.Join(dir, ShardName(0)))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// One file, rewritten for each input: a directory per input made
	// filesystem calls three quarters of the fuzzer's time. Each fuzzing
	// process runs its inputs one at a time.
	path := filepath.Join(f.TempDir(), "damaged.arrow")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		Inspect(io.Discard, path, InspectOptions{Examples: 2})
	})
}
