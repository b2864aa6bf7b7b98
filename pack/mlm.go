package pack

import "github.com/corpusflow/corpusflow/tokenize"

// mlmPacker makes RoBERTa-style masked-LM examples: [CLS] tokens [SEP].
//
// With doc_boundary cross (FULL-SENTENCES) the documents form one stream, a
// [SEP] between consecutive documents, cut every seq_len-2 tokens; only the
// very last example is short. With strict (DOC-SENTENCES) each document is
// cut on its own and its last example is short.
type mlmPacker struct {
	capacity int // content tokens per example: seq_len minus [CLS] and [SEP]
	cross    bool
	cls, sep int32

	buf    []int32 // content of the example being filled
	bufDoc string  // the document its first token came from
}

func newMLMPacker(c *Config, sp tokenize.SpecialTokens) *mlmPacker {
	return &mlmPacker{capacity: c.SeqLen - 2, cross: c.DocBoundary != BoundaryStrict, cls: sp.CLS, sep: sp.SEP}
}

func (p *mlmPacker) add(docID string, tokens []int32, emit func(*example)) {
	if p.cross && len(p.buf) > 0 {
		// The separator between documents; an example never starts with one.
		p.buf = append(p.buf, p.sep)
		if len(p.buf) == p.capacity {
			p.emitBuf(emit)
		}
	}
	for len(tokens) > 0 {
		if len(p.buf) == 0 {
			p.bufDoc = docID
		}
		n := min(p.capacity-len(p.buf), len(tokens))
		p.buf = append(p.buf, tokens[:n]...)
		tokens = tokens[n:]
		if len(p.buf) == p.capacity {
			p.emitBuf(emit)
		}
	}
	if !p.cross && len(p.buf) > 0 {
		p.emitBuf(emit)
	}
}

func (p *mlmPacker) flush(emit func(*example)) {
	if len(p.buf) > 0 {
		p.emitBuf(emit)
	}
}

func (p *mlmPacker) emitBuf(emit func(*example)) {
	ids := make([]int32, 0, len(p.buf)+2)
	ids = append(ids, p.cls)
	ids = append(ids, p.buf...)
	ids = append(ids, p.sep)
	emit(&example{docID: p.bufDoc, inputIDs: ids})
	p.buf = p.buf[:0]
}
