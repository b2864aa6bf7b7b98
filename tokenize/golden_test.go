package tokenize

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The golden files are written by tools/golden/goldens.js with Hugging Face
// tokenizers (and checked against tiktoken for GPT-2); see
// testdata/tokenize/PROVENANCE.md.
const goldenDir = "../testdata/tokenize/golden"

type goldenManifest struct {
	Tokenizers string `json:"tokenizers"`
	Texts      int    `json:"texts"`
	Goldens    []struct {
		Name          string `json:"name"`
		Texts         int    `json:"texts"`
		Tokens        int    `json:"tokens"`
		TokenizerJSON string `json:"tokenizer_json"`
		// TokenizerJSONGz is a gzipped tokenizer.json (saved by the
		// reference for a variant).
		TokenizerJSONGz string `json:"tokenizer_json_gz"`
		VocabTxt        string `json:"vocab_txt"`
		VocabJSON       string `json:"vocab_json"`
		MergesTxt       string `json:"merges_txt"`
		Options         *struct {
			Lowercase       bool `json:"lowercase"`
			StripAccents    bool `json:"strip_accents"`
			TokenizeChinese bool `json:"tokenize_chinese"`
			CleanText       bool `json:"clean_text"`
		} `json:"options"`
	} `json:"goldens"`
}

type goldenText struct {
	Src  string `json:"src"`
	Text string `json:"text"`
}

type goldenDecode struct {
	Full string `json:"full"`
	Half string `json:"half"`
}

var loadGoldenCorpus = sync.OnceValues(func() ([]goldenText, error) {
	var texts []goldenText
	err := readGzipLines(filepath.Join(goldenDir, "corpus.jsonl.gz"), func(line string) error {
		var t goldenText
		if err := json.Unmarshal([]byte(line), &t); err != nil {
			return err
		}
		texts = append(texts, t)
		return nil
	})
	return texts, err
})

func readGzipLines(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if err := fn(sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// readGoldenIDs returns one entry per text; nil for texts the golden skips.
func readGoldenIDs(t *testing.T, name string) [][]int32 {
	t.Helper()
	var out [][]int32
	err := readGzipLines(filepath.Join(goldenDir, name+".ids.gz"), func(line string) error {
		if line == "-" {
			out = append(out, nil)
			return nil
		}
		ids := []int32{}
		for _, f := range strings.Fields(line) {
			n, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				return err
			}
			ids = append(ids, int32(n))
		}
		out = append(out, ids)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readGoldenDecodes(t *testing.T, name string) []*goldenDecode {
	t.Helper()
	var out []*goldenDecode
	err := readGzipLines(filepath.Join(goldenDir, name+".decode.jsonl.gz"), func(line string) error {
		var d *goldenDecode
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readManifest(t *testing.T) goldenManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m goldenManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGoldenIDs checks every text of every golden file, through every way of
// loading the same vocabulary, for identical ids and identical decoding.
func TestGoldenIDs(t *testing.T) {
	m := readManifest(t)
	corpus, err := loadGoldenCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(corpus) != m.Texts || len(m.Goldens) < 8 {
		t.Fatalf("corpus has %d texts, manifest says %d; %d goldens", len(corpus), m.Texts, len(m.Goldens))
	}
	base := filepath.Dir(goldenDir)
	for _, g := range m.Goldens {
		want := readGoldenIDs(t, g.Name)
		decodes := readGoldenDecodes(t, g.Name)
		if len(want) != len(corpus) || len(decodes) != len(corpus) {
			t.Fatalf("%s: %d id lines, %d decodes for %d texts", g.Name, len(want), len(decodes), len(corpus))
		}
		loaders := map[string]func() (Tokenizer, error){}
		if g.TokenizerJSON != "" {
			loaders["tokenizer.json"] = func() (Tokenizer, error) { return Load(filepath.Join(base, g.TokenizerJSON)) }
		}
		if g.TokenizerJSONGz != "" {
			gz := filepath.Join(base, g.TokenizerJSONGz)
			loaders["tokenizer.json.gz"] = func() (Tokenizer, error) {
				plain := filepath.Join(t.TempDir(), "tokenizer.json")
				if err := gunzipFile(gz, plain); err != nil {
					return nil, err
				}
				return Load(plain)
			}
		}
		if g.VocabTxt != "" && g.Options == nil {
			loaders["vocab.txt"] = func() (Tokenizer, error) { return Load(filepath.Join(base, g.VocabTxt)) }
		}
		if g.VocabTxt != "" && g.Options != nil {
			o := g.Options
			loaders["vocab.txt+options"] = func() (Tokenizer, error) {
				return LoadWordPiece(filepath.Join(base, g.VocabTxt), WordPieceOptions{
					Lowercase: o.Lowercase, StripAccents: o.StripAccents, TokenizeChinese: o.TokenizeChinese, CleanText: o.CleanText,
				})
			}
		}
		if g.VocabJSON != "" {
			loaders["vocab.json+merges.txt"] = func() (Tokenizer, error) {
				return LoadBPE(filepath.Join(base, g.VocabJSON), filepath.Join(base, g.MergesTxt))
			}
		}
		for how, load := range loaders {
			t.Run(g.Name+"/"+how, func(t *testing.T) {
				tok, err := load()
				if err != nil {
					t.Fatal(err)
				}
				checked, tokens, bad := 0, 0, 0
				var got []int32
				for i, text := range corpus {
					if want[i] == nil {
						continue
					}
					checked++
					got = tok.Encode(text.Text, got[:0])
					tokens += len(got)
					if !equalIDs(got, want[i]) {
						if bad++; bad <= 5 {
							at := firstDiff(got, want[i])
							t.Errorf("text %d (%s) %q: ids differ at %d:\n got %v\nwant %v", i, text.Src, clip(text.Text, 120), at, window(got, at), window(want[i], at))
						}
						continue
					}
					d := decodes[i]
					if s := tok.Decode(want[i]); s != d.Full {
						if bad++; bad <= 5 {
							t.Errorf("text %d (%s): decode\n got %q\nwant %q", i, text.Src, clip(s, 200), clip(d.Full, 200))
						}
					}
					half := want[i][:(len(want[i])+1)/2]
					if s := tok.Decode(half); s != d.Half {
						if bad++; bad <= 5 {
							t.Errorf("text %d (%s): decode of first half\n got %q\nwant %q", i, text.Src, clip(s, 200), clip(d.Half, 200))
						}
					}
				}
				if bad > 0 {
					t.Errorf("%d of %d texts differ", bad, checked)
				}
				if checked != g.Texts || tokens != g.Tokens {
					t.Errorf("checked %d texts / %d tokens, manifest says %d / %d", checked, tokens, g.Texts, g.Tokens)
				}
			})
		}
	}
}

func gunzipFile(src, dst string) error {
	var b strings.Builder
	if err := readGzipLines(src, func(l string) error { b.WriteString(l + "\n"); return nil }); err != nil {
		return err
	}
	return os.WriteFile(dst, []byte(b.String()), 0o644)
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstDiff(a, b []int32) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func window(ids []int32, at int) []int32 {
	return ids[max(0, at-3):min(len(ids), at+5)]
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
