package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// emptyIDsShard is an Arrow IPC file (or stream) of zstd batches of rows
// empty ids each: a few hundred bytes a batch that decode to 4 bytes of
// offsets a row.
func emptyIDsShard(t testing.TB, format string, rows, batches int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: ColID, Type: arrow.BinaryTypes.String}}, nil)
	offsets := memory.NewBufferBytes(make([]byte, 4*(rows+1)))
	ids := array.NewStringData(array.NewData(arrow.BinaryTypes.String, rows, []*memory.Buffer{nil, offsets, memory.NewBufferBytes(nil)}, nil, 0, 0))
	defer ids.Release()
	rec := array.NewRecord(schema, []arrow.Array{ids}, int64(rows))
	defer rec.Release()
	var buf appendOnlyFile
	var w interface {
		Write(arrow.Record) error
		Close() error
	}
	if format == FormatStream {
		w = ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithZstd())
	} else {
		fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(schema), ipc.WithZstd())
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	}
	for range batches {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// appendOnlyFile is an in-memory file for the IPC file writer, which only
// asks where it is.
type appendOnlyFile struct{ bytes.Buffer }

func (f *appendOnlyFile) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, errors.New("appendOnlyFile only tells its position")
	}
	return int64(f.Len()), nil
}

// repeatFirstBatch rewrites an Arrow IPC file of one record batch so that
// its footer lists that batch times times: the file grows by 24 bytes a
// listing, a reader decodes the batch each time.
func repeatFirstBatch(t testing.TB, data []byte, times int) []byte {
	t.Helper()
	n := len(data)
	end := n - len(arrowMagic) - 4
	size := int(binary.LittleEndian.Uint32(data[end:]))
	fb := fbBuffer(data[end-size : end])
	footer, err := fb.root()
	if err != nil {
		t.Fatal(err)
	}
	start, count, err := fb.vector(footer, fbFooterRecordBatches, blockSize)
	if err != nil || count != 1 {
		t.Fatalf("want a file of one batch: %d batches, %v", count, err)
	}
	block := append([]byte(nil), fb[start:start+blockSize]...)
	offset := binary.LittleEndian.Uint64(block)
	meta := binary.LittleEndian.Uint32(block[8:])
	body := binary.LittleEndian.Uint64(block[16:])
	batchEnd := int(offset) + int(meta) + int(body)
	if batchEnd > end-size {
		t.Fatalf("the batch ends at %d, after the footer at %d", batchEnd, end-size)
	}
	// Append the longer vector to the footer and point the footer's field
	// at it (a flatbuffer offset is relative to where it is stored).
	slot, _, err := fb.slot(footer, fbFooterRecordBatches)
	if err != nil {
		t.Fatal(err)
	}
	newFooter := append([]byte(nil), fb...)
	for (len(newFooter)+4)%8 != 0 {
		newFooter = append(newFooter, 0)
	}
	binary.LittleEndian.PutUint32(newFooter[slot:], uint32(len(newFooter)-slot))
	newFooter = binary.LittleEndian.AppendUint32(newFooter, uint32(times))
	for range times {
		newFooter = append(newFooter, block...)
	}
	out := append([]byte(nil), data[:batchEnd]...)
	out = append(out, newFooter...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(newFooter)))
	return append(out, arrowMagic...)
}

// costlyShard is a damaged file, small, that cost much to inspect before
// the checks that refuse it now. It is also a seed of FuzzInspectShardFile,
// under its name.
type costlyShard struct {
	name       string
	data       []byte
	overBudget bool   // refused by the decode budget (budget.go), else by the metadata check (ipccheck.go)
	says       string // in the error
}

func costlyShards(t testing.TB) []costlyShard {
	return []costlyShard{
		// 7.6 KB of zstd, 16 million empty rows: 2.7 s.
		{"decodes-16M-empty-rows", emptyIDsShard(t, FormatFile, 1<<24, 1), true, "decodes to more than"},
		// One batch of 131072 rows that the footer lists 200 times: 3 s.
		{"footer-lists-a-batch-200x", repeatFirstBatch(t, emptyIDsShard(t, FormatFile, 1<<17, 1), 200), false, "overlapping messages"},
		// 20 batches of 262144 rows: 1 s.
		{"stream-of-20-batches-of-1M", emptyIDsShard(t, FormatStream, 1<<18, 20), true, "decodes to more than"},
		// 20 batches of 2 rows whose zstd frames declare 512 MiB windows:
		// the zstd decoder allocated 10 GiB, 1-2 s.
		{"stream-of-zstd-frames-with-512MiB-windows", withZstdWindows(t, emptyIDsShard(t, FormatStream, 2, 20), 19), false, "536870912-byte window"},
	}
}

func TestInspectRefusesSmallFilesThatCostMuchToRead(t *testing.T) {
	for _, c := range costlyShards(t) {
		t.Run(c.name, func(t *testing.T) {
			seed, err := readFuzzSeed(filepath.Join("testdata", "fuzz", "FuzzInspectShardFile", c.name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(seed, c.data) {
				t.Fatalf("the fuzz seed %s (%d bytes) is not this input (%d bytes): regenerate it", c.name, len(seed), len(c.data))
			}
			path := filepath.Join(t.TempDir(), "damaged.arrow")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err = Inspect(io.Discard, path, InspectOptions{Examples: 2})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("a %d-byte file: %v, want an error naming the file that says %q", len(c.data), err, c.says)
			}
			var ob errOverBudget
			switch {
			case c.overBudget && (!errors.As(err, &ob) || !ob.cumulative):
				t.Fatalf("%v, want the decode budget refused", err)
			case c.overBudget && (ob.limit != decodedBudgetBase+budgetFactor*int64(len(c.data)) || ob.counted > ob.limit):
				t.Fatalf("budget %d with %d decoded, want %d for %d bytes", ob.limit, ob.counted, decodedBudgetBase+budgetFactor*int64(len(c.data)), len(c.data))
			case !c.overBudget && !errors.Is(err, errDamagedMetadata):
				t.Fatalf("%v, want the metadata check refused", err)
			}
		})
	}
}

// withZstdWindows makes every zstd frame in data that has a window
// descriptor declare a window of 2^(10+exponent) bytes.
func withZstdWindows(t testing.TB, data []byte, exponent byte) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	magic := binary.LittleEndian.AppendUint32(nil, zstdMagic)
	patched := 0
	for i := 0; i+6 <= len(out); i++ {
		if bytes.Equal(out[i:i+4], magic) && out[i+4]&0x20 == 0 { // not single-segment: a window descriptor follows
			out[i+5] = exponent << 3
			patched++
		}
	}
	if patched == 0 {
		t.Fatal("no zstd frame with a window descriptor")
	}
	return out
}

// TestVerifiedShardsHaveNoDecodeBudget: a shard whose checksum matches its
// manifest is read whatever it decodes to; the same bytes unverified are
// refused past the budget.
func TestVerifiedShardsHaveNoDecodeBudget(t *testing.T) {
	const rows = 1 << 19 // 2 MiB of offsets, over the unverified budget
	data := emptyIDsShard(t, FormatFile, rows, 1)
	info := ShardInfo{File: ShardName(0), Bytes: int64(len(data)), XXHash64: hashBytes(data)}
	for _, verify := range []bool{true, false} {
		c, err := openVerified(data, info, FormatFile, info.File, verify)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			var ok bool
			_, ok, err = c.next()
			if err != nil || !ok {
				break
			}
			n++
		}
		c.close()
		var ob errOverBudget
		switch {
		case verify && (err != nil || n != rows):
			t.Fatalf("verified: %d rows, %v; want %d rows", n, err, rows)
		case !verify && !errors.As(err, &ob):
			t.Fatalf("unverified: %d rows, %v; want the decode budget refused", n, err)
		}
	}
}

// readFuzzSeed reads a file of Go's fuzzing corpus holding one []byte.
func readFuzzSeed(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	header, value, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	quoted, ok := strings.CutPrefix(value, "[]byte(")
	if header != "go test fuzz v1" || !ok || !strings.HasSuffix(quoted, ")") {
		return nil, fmt.Errorf("%s: not a corpus file of one []byte", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
	return []byte(s), err
}
