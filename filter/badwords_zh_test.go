package filter

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// c4ZhAllowList reads the allow list of the badwords stage that
// pipelines/c4-zh.yaml ships (the YAML parser lives in pipelines, which
// imports this package, so only the one key is read here).
func c4ZhAllowList(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../pipelines/c4-zh.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Stages []struct {
			Use   string   `yaml:"use"`
			Allow []string `yaml:"allow"`
		} `yaml:"stages"`
	}
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Stages {
		if st.Use == "badwords" {
			return st.Allow
		}
	}
	t.Fatal("pipelines/c4-zh.yaml has no badwords stage")
	return nil
}

// TestC4ZhPipelineAllowList shows what the shipped Chinese pipeline's allow
// list changes: faithful mC4 substring matching drops 6 of the 14 Chinese
// Wikipedia articles for words inside ordinary words; with the allow list
// none is dropped, while offensive text is still caught.
func TestC4ZhPipelineAllowList(t *testing.T) {
	allow := c4ZhAllowList(t)
	if len(allow) == 0 {
		t.Fatal("pipelines/c4-zh.yaml's badwords stage has no allow list")
	}
	faithful, err := NewBadWords(BadWordsConfig{List: "../testdata/badwords/zh", Language: "zh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := NewBadWords(BadWordsConfig{List: "../testdata/badwords/zh", Language: "zh", Allow: allow}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantFaithful := map[string]string{ // article → the entry found
		"zhwiki-18": "成人", "zhwiki-22": "逼", "zhwiki-39": "性交",
		"zhwiki-45": "妓", "zhwiki-57": "鳩", "zhwiki-59": "幹",
	}
	pages := chineseGoldenPages(t)
	if len(pages) != 14 {
		t.Fatalf("%d articles, want 14", len(pages))
	}
	for _, p := range pages {
		word, found := faithful.Find(p.text)
		if want, ok := wantFaithful[p.id]; ok != found || word != want {
			t.Errorf("faithful, %s: found %q (%v), want %q", p.id, word, found, want)
		}
		if word, found := shipped.Find(p.text); found {
			t.Errorf("with c4-zh.yaml's allow list, %s is still rejected for %q", p.id, word)
		}
	}
	// Offensive text is still caught: the explicit compounds stay listed.
	for _, text := range []string{"这是傻逼说的话", "他们去了妓院", "巨乳图片", "强奸案", "操你妈", "他奶奶的"} {
		if _, found := shipped.Find(text); !found {
			t.Errorf("with the allow list, %q passes", text)
		}
	}
	// The sexually explicit Common Crawl page of the WARC sample.
	for _, p := range ccWARCPages(t) {
		if strings.Contains(p.url, "0513mt.com") {
			if word, found := shipped.Find(p.text); !found {
				t.Errorf("%s passes with the allow list", p.url)
			} else if slices.Contains(allow, word) {
				t.Errorf("found an allowed entry %q", word)
			}
			return
		}
	}
	t.Error("the 0513mt.com page is not in the WARC sample")
}
