package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// scriptedReader returns its steps one Read at a time: a string is data, an
// error is returned as is.
type scriptedReader struct{ steps []any }

func (s *scriptedReader) Read(p []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	switch step := s.steps[0].(type) {
	case string:
		n := copy(p, step)
		if n < len(step) {
			s.steps[0] = step[n:]
		} else {
			s.steps = s.steps[1:]
		}
		return n, nil
	case error:
		s.steps = s.steps[1:]
		return 0, step
	}
	panic("bad step")
}

func gap(delivered int64) error {
	return &gapError{Kind: "corrupt_gzip", Delivered: delivered, Err: errors.New("test gap")}
}

// readLines renders what readLine returns, one entry per call.
func readLines(s *stream, max int) []string {
	var out []string
	for {
		line, tooLong, err := s.readLine(max)
		switch {
		case err == io.EOF:
			return out
		case err != nil:
			if _, ok := asGap(err); ok {
				out = append(out, fmt.Sprintf("GAP(cut %d)", s.cut))
				continue
			}
			return append(out, "ERR "+err.Error())
		case tooLong:
			out = append(out, "LONG")
		default:
			out = append(out, string(line))
		}
	}
}

func TestStreamReadLine(t *testing.T) {
	long := strings.Repeat("y", streamBufferSize+100)
	tests := []struct {
		name  string
		steps []any
		max   int
		want  []string
	}{
		{"lines", []any{"a\nbb\n", "c"}, 10, []string{"a\n", "bb\n", "c"}},
		{"line across reads", []any{"ab", "cd\ne", "f\n"}, 10, []string{"abcd\n", "ef\n"}},
		{"too long, then more", []any{"123456789012\nok\n"}, 10, []string{"LONG", "ok\n"}},
		{"too long at the end", []any{"123456789012"}, 10, []string{"LONG"}},
		{"longer than the buffer", []any{long + "\nz\n"}, len(long) + 1, []string{long + "\n", "z\n"}},
		{"over the buffer and the limit", []any{long + "\nz\n"}, 1000, []string{"LONG", "z\n"}},
		{"gap between lines", []any{"a\n", gap(0), "b\n"}, 10, []string{"a\n", "GAP(cut 0)", "b\n"}},
		{"gap inside a line loses it", []any{"a\nhal", gap(3), "f\nb\n"}, 10, []string{"a\n", "GAP(cut 3)", "f\n", "b\n"}},
		{"two gaps", []any{gap(0), gap(0), "x"}, 10, []string{"GAP(cut 0)", "GAP(cut 0)", "x"}},
		{"read error is sticky", []any{"a\n", io.ErrClosedPipe, "b\n"}, 10, []string{"a\n", "ERR io: read/write on closed pipe"}},
	}
	for _, tt := range tests {
		s := newStream(&scriptedReader{steps: append([]any(nil), tt.steps...)}, nil)
		got := readLines(s, tt.max)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStreamReadNAndUnread(t *testing.T) {
	var counted int64
	s := newStream(&scriptedReader{steps: []any{"hello ", "world\nrest"}}, func(n int64) { counted += n })
	got, err := s.readN(nil, 8)
	if err != nil || string(got) != "hello wo" || s.offset() != 8 {
		t.Fatalf("readN: %q %v offset %d", got, err, s.offset())
	}
	s.unread([]byte("lo wo"))
	if s.offset() != 3 {
		t.Errorf("offset after unread %d, want 3", s.offset())
	}
	if lines := readLines(s, 100); strings.Join(lines, "|") != "lo world\n|rest" {
		t.Errorf("after unread: %q", lines)
	}
	if counted != int64(len("hello world\nrest")) {
		t.Errorf("counted %d bytes", counted)
	}
	// A gap inside readN returns the bytes before it and the gap.
	s = newStream(&scriptedReader{steps: []any{"abc", gap(3), "def"}}, nil)
	got, err = s.readN(nil, 5)
	if _, isGap := asGap(err); !isGap || string(got) != "abc" {
		t.Errorf("readN over a gap: %q %v", got, err)
	}
	if rest, err := s.readN(nil, 3); string(rest) != "def" || err != nil {
		t.Errorf("after the gap: %q %v", rest, err)
	}
}

func TestGzipMembers(t *testing.T) {
	chunks := [][]byte{[]byte("one\n"), []byte("two\n"), []byte("three\n"), []byte("four\n")}
	file, starts := gzipMembersOf(t, chunks)
	read := func(data []byte) (string, []string) {
		var kinds []string
		g := newGzipMembers(bytes.NewReader(data), nil, func(kind string, err error) { kinds = append(kinds, kind) })
		var out strings.Builder
		buf := make([]byte, 3)
		for {
			n, err := g.Read(buf)
			out.Write(buf[:n])
			if err == io.EOF {
				return out.String(), kinds
			}
			if gp, ok := asGap(err); ok {
				fmt.Fprintf(&out, "[%s %d]", gp.Kind, gp.Delivered)
			} else if err != nil {
				return out.String() + "[ERR]", kinds
			}
		}
	}
	flip := func(at int) []byte {
		d := append([]byte(nil), file...)
		d[at] ^= 0xff
		return d
	}
	tests := []struct {
		name  string
		data  []byte
		want  string
		kinds string
	}{
		{"intact", file, "one\ntwo\nthree\nfour\n", ""},
		{"member 3 header broken", flip(starts[2] + 3), "one\ntwo\n[corrupt_gzip 0]four\n", "corrupt_gzip"},
		{"member 2 trailer CRC broken", flip(starts[2] - 6), "one\ntwo\n[corrupt_gzip 4]three\nfour\n", "corrupt_gzip"},
		{"cut in member 4", file[:starts[3]+12], "one\ntwo\nthree\n[truncated_gzip 0]", "truncated_gzip"},
		{"cut in a header", file[:starts[1]+5], "one\n[truncated_gzip 0]", "truncated_gzip"},
		{"junk between members", append(append(append([]byte(nil), file[:starts[2]]...), "junk"...), file[starts[2]:]...), "one\ntwo\n[corrupt_gzip 0]three\nfour\n", "corrupt_gzip"},
		{"trailing zeros", append(append([]byte(nil), file...), make([]byte, 64)...), "one\ntwo\nthree\nfour\n[corrupt_gzip 0]", "corrupt_gzip"},
	}
	for _, tt := range tests {
		got, kinds := read(tt.data)
		if got != tt.want || strings.Join(kinds, ",") != tt.kinds {
			t.Errorf("%s: got %q %v, want %q %v", tt.name, got, kinds, tt.want, tt.kinds)
		}
	}
}
