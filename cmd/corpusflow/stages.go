package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/corpusflow/corpusflow/flow"
)

func init() {
	register(command{name: "stages", usage: "[NAME]", summary: "list every source, stage and sink with its parameters and defaults", run: runStages})
}

func runStages(args []string) int {
	fs := flag.NewFlagSet("stages", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	only := fs.Arg(0)
	found := false
	for _, kind := range []flow.Kind{flow.KindSource, flow.KindStage, flow.KindSink, flow.KindTransport, flow.KindSection} {
		var b strings.Builder
		for _, c := range flow.Components(kind) {
			if only != "" && c.Name != only {
				continue
			}
			found = true
			fmt.Fprintf(&b, "  %s — %s\n", c.Name, c.Summary)
			for _, p := range c.Params() {
				fmt.Fprintf(&b, "      %-22s %s", p.Name, p.Type)
				if p.Required {
					b.WriteString(", required")
				} else {
					fmt.Fprintf(&b, ", default %s", p.Default)
				}
				if len(p.Choices) > 0 {
					fmt.Fprintf(&b, ", one of %s", strings.Join(p.Choices, "|"))
				}
				if p.Help != "" {
					fmt.Fprintf(&b, "\n      %-22s %s", "", p.Help)
				}
				b.WriteString("\n")
			}
		}
		if b.Len() > 0 {
			fmt.Printf("%ss:\n%s\n", kind, b.String())
		}
	}
	if !found {
		fmt.Fprintf(os.Stderr, "corpusflow stages: nothing called %q is registered\n", only)
		return exitUsage
	}
	return exitOK
}
