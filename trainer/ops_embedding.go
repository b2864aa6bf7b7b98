package trainer

// embeddingForward writes out[i] = word[ids[i]] + pos[i mod S] + typ[types[i]]
// for the n = B·S tokens of a batch. types may be nil (all segment 0).
func embeddingForward[T Float](ids, types []int32, seqLen, h int, word, pos, typ, out []T) {
	for i, id := range ids {
		o := out[i*h : (i+1)*h]
		w := word[int(id)*h : int(id+1)*h]
		p := pos[(i%seqLen)*h : (i%seqLen+1)*h]
		t := 0
		if types != nil {
			t = int(types[i])
		}
		tt := typ[t*h : (t+1)*h]
		for j := range o {
			o[j] = w[j] + p[j] + tt[j]
		}
	}
}

// embeddingBackward scatters dout into the three tables. Rows of padID get no
// gradient through the lookup, as torch.nn.Embedding(padding_idx=pad) does;
// the tied MLM decoder still updates that row.
func embeddingBackward[T Float](ids, types []int32, seqLen, h int, dout []T, padID int32, dword, dpos, dtyp []T) {
	for i, id := range ids {
		g := dout[i*h : (i+1)*h]
		if id != padID {
			w := dword[int(id)*h : int(id+1)*h]
			for j := range g {
				w[j] += g[j]
			}
		}
		p := dpos[(i%seqLen)*h : (i%seqLen+1)*h]
		for j := range g {
			p[j] += g[j]
		}
		t := 0
		if types != nil {
			t = int(types[i])
		}
		tt := dtyp[t*h : (t+1)*h]
		for j := range g {
			tt[j] += g[j]
		}
	}
}
