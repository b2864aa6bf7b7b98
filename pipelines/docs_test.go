package pipelines

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated part of pipelines/README.md")

// TestReadmeMatchesRegistry keeps pipelines/README.md's component reference
// equal to what is registered. The test binary registers a few test-only
// components; they are left out.
func TestReadmeMatchesRegistry(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := strings.Index(doc, DocsBegin), strings.Index(doc, DocsEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q ... %q", DocsBegin, DocsEnd)
	}
	want := withoutTestComponents(ComponentReference())
	got := doc[begin+len(DocsBegin) : end]
	if strings.TrimSpace(got) == strings.TrimSpace(want) {
		return
	}
	if *updateDocs {
		doc = doc[:begin+len(DocsBegin)] + "\n\n" + strings.TrimSpace(want) + "\n\n" + doc[end:]
		if err := os.WriteFile("README.md", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("pipelines/README.md is out of date with the registered components; run `go test ./pipelines -run TestReadmeMatchesRegistry -update-docs` and review the diff")
}

// withoutTestComponents drops the sections of components this test binary
// registers for itself (their names start with "test_").
func withoutTestComponents(ref string) string {
	var out []string
	skip := false
	for _, line := range strings.Split(ref, "\n") {
		if strings.HasPrefix(line, "#### ") {
			skip = strings.Contains(line, ": test_")
		} else if strings.HasPrefix(line, "### ") {
			skip = false
		}
		if !skip {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
