package trainer

// RecallKs are the cut-offs retrieval is scored at.
var RecallKs = []int{1, 5, 10}

// Retrieval is the held-out retrieval score: for each image, is a correct
// caption among the k captions scored highest (image→text), and for each
// caption, is a correct image among the k images scored highest
// (text→image), over all N held-out pairs. A caption is correct for an image
// when its text equals the image's own caption, so two pairs that share a
// caption ("two red circles on the left") are both right answers. Chance is
// what a random ranking scores.
type Retrieval struct {
	Pairs  int       `json:"pairs"`
	Ks     []int     `json:"k"`
	I2T    []float64 `json:"image_to_text"`
	T2I    []float64 `json:"text_to_image"`
	Chance []float64 `json:"chance"`
}

// At returns image→text and text→image recall at k (0 when k is not scored).
func (r Retrieval) At(k int) (i2t, t2i float64) {
	for i, kk := range r.Ks {
		if kk == k {
			return r.I2T[i], r.T2I[i]
		}
	}
	return 0, 0
}

// scoreRetrieval ranks n texts for each of n images and the reverse, from
// normalised embeddings [n, d]; captions group equal texts (nil: only the
// paired item is correct).
func scoreRetrieval(images, texts []float64, n, d int, captions []string, ks []int) Retrieval {
	r := Retrieval{Pairs: n, Ks: ks, I2T: make([]float64, len(ks)), T2I: make([]float64, len(ks)), Chance: make([]float64, len(ks))}
	if n == 0 {
		return r
	}
	group := make([]int, n)
	size := map[int]int{}
	ids := map[string]int{}
	for i := range group {
		group[i] = i
		if captions != nil {
			g, ok := ids[captions[i]]
			if !ok {
				g = len(ids)
				ids[captions[i]] = g
			}
			group[i] = g
		}
		size[group[i]]++
	}
	sim := make([]float64, n*n) // sim[i·n+j] = image i · text j
	gemm(false, true, n, n, d, 1, images, d, texts, d, 0, sim, n)
	// rank counts the wrong candidates scored above the best right one.
	rank := func(q int, score func(j int) float64) int {
		best := -1e300
		for j := 0; j < n; j++ {
			if group[j] == group[q] && score(j) > best {
				best = score(j)
			}
		}
		above := 0
		for j := 0; j < n; j++ {
			if group[j] != group[q] && score(j) > best {
				above++
			}
		}
		return above
	}
	for q := 0; q < n; q++ {
		ri := rank(q, func(j int) float64 { return sim[q*n+j] })
		rt := rank(q, func(j int) float64 { return sim[j*n+q] })
		g := size[group[q]]
		for i, k := range ks {
			if ri < k {
				r.I2T[i]++
			}
			if rt < k {
				r.T2I[i]++
			}
			// A random ranking misses all g right answers in its first k
			// with probability Π_{t<k} (n−g−t)/(n−t).
			miss := 1.0
			for t := 0; t < k && t < n; t++ {
				miss *= float64(max(n-g-t, 0)) / float64(n-t)
			}
			r.Chance[i] += 1 - miss
		}
	}
	for i := range ks {
		r.I2T[i] /= float64(n)
		r.T2I[i] /= float64(n)
		r.Chance[i] /= float64(n)
	}
	return r
}
