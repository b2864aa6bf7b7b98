package pack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/corpusflow/corpusflow/internal/atomicfile"
)

// ManifestName is the file in a shard directory that lists its shards.
const ManifestName = "manifest.json"

// ManifestVersion is the version of manifest.json this package writes and
// reads.
const ManifestVersion = 1

// Shard formats as manifest.json names them.
const (
	FormatFile   = "arrow-file"   // Arrow IPC file: random access, a footer
	FormatStream = "arrow-stream" // Arrow IPC stream: what datasets.Dataset.from_file maps
)

// Manifest is manifest.json: what a shard directory holds. It is rewritten
// atomically after every closed shard, so it only ever lists complete,
// synced shards; Complete is set once, when the run that writes the
// directory has finished.
type Manifest struct {
	Version     int         `json:"version"`
	Format      string      `json:"format"`
	Compression string      `json:"compression"`
	Schema      SchemaJSON  `json:"schema"`
	Rows        int64       `json:"rows"`
	Bytes       int64       `json:"bytes"`
	Shards      []ShardInfo `json:"shards"`
	Complete    bool        `json:"complete"`
	// Writer holds the settings that decide where shards are cut; a resumed
	// run must use the same ones to produce the same shards.
	Writer WriterSettings `json:"writer"`
}

// ShardInfo is one shard in the manifest.
type ShardInfo struct {
	File  string `json:"file"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
	// XXHash64 is the xxhash64 of the file's bytes, 16 lower-case hex
	// digits; readers verify it.
	XXHash64 string `json:"xxhash64"`
	// ContentXXHash64 hashes the rows' values (not their encoding); a resumed
	// run checks that the records it replays hash the same, so it never
	// continues a directory made from other input.
	ContentXXHash64 string `json:"content_xxhash64"`
}

// WriterSettings are the shard writer's settings that shape the output.
type WriterSettings struct {
	BatchRows     int   `json:"batch_rows"`
	MaxShardBytes int64 `json:"max_shard_bytes"`
	MaxRows       int64 `json:"max_rows"`
}

var (
	shardNamePattern = regexp.MustCompile(`^shard-[0-9]{5,}\.arrow$`)
	hexHashPattern   = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

// ShardName is the file name of the i-th shard.
func ShardName(i int) string { return fmt.Sprintf("shard-%05d.arrow", i) }

// ParseManifest decodes and checks manifest.json. It refuses anything a
// reader could be misled by: an unknown version or format, shard names that
// are not plain shard-NNNNN.arrow files in the directory, counts that do not
// add up.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("version %d, this corpusflow reads version %d", m.Version, ManifestVersion)
	}
	if m.Format != FormatFile && m.Format != FormatStream {
		return nil, fmt.Errorf("format %q is not %q or %q", m.Format, FormatFile, FormatStream)
	}
	switch m.Compression {
	case "none", "lz4", "zstd":
	default:
		return nil, fmt.Errorf("compression %q is not none, lz4 or zstd", m.Compression)
	}
	var rows, bytes int64
	seen := make(map[string]bool, len(m.Shards))
	for i, s := range m.Shards {
		if !shardNamePattern.MatchString(s.File) {
			return nil, fmt.Errorf("shard %d: file %q is not a shard-NNNNN.arrow name", i, s.File)
		}
		if seen[s.File] {
			return nil, fmt.Errorf("shard %d: file %q is listed twice", i, s.File)
		}
		seen[s.File] = true
		if s.Rows <= 0 || s.Bytes <= 0 {
			return nil, fmt.Errorf("shard %d (%s): rows %d and bytes %d must be positive", i, s.File, s.Rows, s.Bytes)
		}
		if !hexHashPattern.MatchString(s.XXHash64) {
			return nil, fmt.Errorf("shard %d (%s): xxhash64 %q is not 16 hex digits", i, s.File, s.XXHash64)
		}
		rows += s.Rows
		bytes += s.Bytes
	}
	if rows != m.Rows {
		return nil, fmt.Errorf("rows %d, but the shards hold %d", m.Rows, rows)
	}
	if bytes != m.Bytes {
		return nil, fmt.Errorf("bytes %d, but the shards hold %d", m.Bytes, bytes)
	}
	return &m, nil
}

// ErrNoManifest is returned when a directory has no manifest.json (yet).
var ErrNoManifest = errors.New("no " + ManifestName)

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoManifest)
	}
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// encode is the manifest's bytes on disk: indented, so people can read it.
func (m *Manifest) encode() []byte {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("pack: manifest does not marshal: %v", err)) // plain data: cannot happen
	}
	return append(data, '\n')
}

// writeManifest replaces dir/manifest.json atomically.
func writeManifest(dir string, m *Manifest) error {
	return atomicfile.WriteFile(filepath.Join(dir, ManifestName), m.encode())
}
