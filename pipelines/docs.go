package pipelines

import (
	"fmt"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
)

// Markers around the generated component reference in pipelines/README.md.
const (
	DocsBegin = "<!-- BEGIN GENERATED COMPONENTS: `go test ./pipelines -update-docs` rewrites this part -->"
	DocsEnd   = "<!-- END GENERATED COMPONENTS -->"
)

// ComponentReference renders every registered component with its parameters
// as Markdown, for pipelines/README.md. A test keeps the README equal to it,
// so the documentation cannot drift from the code.
func ComponentReference() string {
	var b strings.Builder
	titles := []struct {
		kind  flow.Kind
		title string
		key   string
	}{
		{flow.KindSource, "Sources", "type"},
		{flow.KindStage, "Stages", "use"},
		{flow.KindSink, "Sinks", "type"},
		{flow.KindTransport, "Transports", "type"},
		{flow.KindSection, "Sections", ""},
	}
	for _, t := range titles {
		cs := flow.Components(t.kind)
		if len(cs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n", t.title)
		for _, c := range cs {
			if t.key != "" {
				fmt.Fprintf(&b, "#### `%s: %s`\n\n%s\n\n", t.key, c.Name, sentence(c.Summary))
			} else {
				fmt.Fprintf(&b, "#### `%s:`\n\n%s\n\n", c.Name, sentence(c.Summary))
			}
			params := c.Params()
			if len(params) == 0 {
				b.WriteString("No parameters.\n\n")
				continue
			}
			b.WriteString("| parameter | type | default | description |\n| --- | --- | --- | --- |\n")
			for _, p := range params {
				def := "`" + p.Default + "`"
				if p.Required {
					def = "**required**"
				}
				help := p.Help
				if len(p.Choices) > 0 {
					help += " One of `" + strings.Join(p.Choices, "`, `") + "`."
				}
				switch p.Path {
				case "input":
					help += " (Input path, relative to the pipeline file; must exist.)"
				case "output":
					help += " (Relative to the output directory.)"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, p.Type, def, escapeCell(strings.TrimSpace(help)))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func sentence(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
