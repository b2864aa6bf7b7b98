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
// The result must be a report or an error, never a panic or an allocation
// that kills the process (the decoder's allocator has a budget).
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
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "damaged.arrow")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		Inspect(io.Discard, path, InspectOptions{Examples: 2})
	})
}
