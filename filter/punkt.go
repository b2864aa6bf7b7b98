package filter

import (
	"sync"

	"github.com/corpusflow/corpusflow/internal/punkt"
)

// The c4 stage counts sentences as TFDS's C4 did, with NLTK's Punkt and its
// English model: internal/punkt, the counter line_dedup shares, so both
// rules count alike. The names here are the ones c4.go uses.

// punktModel is the English Punkt model.
type punktModel struct{ m *punkt.Model }

// loadEnglishPunkt returns the English model (parsed once).
func loadEnglishPunkt() (*punktModel, error) {
	m, err := punkt.English()
	if err != nil {
		return nil, err
	}
	return &punktModel{m}, nil
}

// punktScratch is one goroutine's memory for the c4 stage's page loop.
type punktScratch struct {
	punkt punkt.Scratch
	fold  []byte // the c4 stage's lower-cased line
}

var punktScratchPool = sync.Pool{New: func() any { return &punktScratch{punkt: *punkt.NewScratch()} }}

// countSentences returns len(PunktSentenceTokenizer.tokenize(text)).
func (m *punktModel) countSentences(s *punktScratch, text string) int {
	return m.m.Count(&s.punkt, text)
}
