package kafka

import (
	"fmt"
	"strings"
	"testing"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/internal/samples"
)

// benchFrame is a frame as the tokenize step sends it on: n distinct
// paragraphs of WikiText-2 (test), with about one token id per 4 bytes of
// text. 256 records is a whole batch; a keyed stage (exact_dedup) with 4
// partitions splits it into frames of about 64. Distinct paragraphs matter:
// zstd compresses a frame of repeated text many times better, and faster,
// than a frame of a real corpus.
func benchFrame(b *testing.B, n int) (*frame, int) {
	data, err := samples.ReadFile(samples.WikiText2Test)
	if err != nil {
		b.Fatal(err)
	}
	var paras []string
	for _, p := range strings.Split(string(data), "\n \n") {
		if p = strings.TrimSpace(p); len(p) > 200 {
			paras = append(paras, p)
		}
	}
	if len(paras) < n {
		b.Fatalf("%d paragraphs, the frame needs %d distinct ones", len(paras), n)
	}
	fr := &frame{kind: kindData, of: 1, gather: 1}
	text := 0
	for i := 0; i < n; i++ {
		r := &flow.Record{ID: fmt.Sprintf("p0.txt:%d", 3*i), Text: paras[i], Source: "p0.txt"}
		r.SetSeq(uint64(i))
		for j := 0; j < len(r.Text)/4; j++ {
			r.Tokens = append(r.Tokens, int32((j*7919)%30522))
		}
		text += len(r.Text)
		fr.records = append(fr.records, posRecord{pos: uint64(i), r: r})
	}
	return fr, text
}

// BenchmarkFrameRoundTrip: what one hop costs a frame besides Kafka itself:
// encode and compress (the producer), then decompress and decode (the
// consumer). The message buffer goes back to its pool, as after an ack.
func BenchmarkFrameRoundTrip(b *testing.B) {
	for _, n := range []int{256, 64} {
		f, text := benchFrame(b, n)
		for _, codec := range []string{"none", "zstd", "s2"} {
			benchFrameRoundTrip(b, fmt.Sprintf("records=%d/%s", n, codec), f, text, codec)
		}
	}
}

func benchFrameRoundTrip(b *testing.B, name string, f *frame, text int, codec string) {
	{
		b.Run(name, func(b *testing.B) {
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
				messageBuffers.put(pooled)
			}
		})
	}
}
