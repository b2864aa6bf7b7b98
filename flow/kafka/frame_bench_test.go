package kafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
)

// benchFrame is a frame as the tokenize step sends it on: 256 paragraphs of
// WikiText (about 1 KB each) with about one token id per 4 bytes of text.
func benchFrame(b *testing.B) (*frame, int) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "text", "wikitext-2-test-head.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var paras []string
	for _, p := range strings.Split(string(data), "\n \n") {
		if p = strings.TrimSpace(p); len(p) > 200 {
			paras = append(paras, p)
		}
	}
	f := &frame{kind: kindData, of: 1, gather: 1}
	text := 0
	for i := 0; i < 256; i++ {
		r := &flow.Record{ID: "doc-" + strings.Repeat("x", i%7), Text: paras[i%len(paras)], Source: "p0.txt"}
		r.SetSeq(uint64(i))
		for j := 0; j < len(r.Text)/4; j++ {
			r.Tokens = append(r.Tokens, int32((j*7919)%30522))
		}
		text += len(r.Text)
		f.records = append(f.records, posRecord{pos: uint64(i), r: r})
	}
	return f, text
}

// BenchmarkFrameRoundTrip: what one hop costs a frame besides Kafka itself:
// encode and compress (the producer), then decompress and decode (the
// consumer). The message buffer goes back to its pool, as after an ack.
func BenchmarkFrameRoundTrip(b *testing.B) {
	f, text := benchFrame(b)
	for _, codec := range []string{"none", "zstd", "s2"} {
		b.Run(codec, func(b *testing.B) {
			p := &producer{}
			if codec != "none" {
				p.compress = codec
			}
			b.SetBytes(int64(text))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				value, pooled, _, err := p.encode(f)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := decodeFrame(value); err != nil {
					b.Fatal(err)
				}
				putMessageBuffer(pooled)
			}
		})
	}
}
