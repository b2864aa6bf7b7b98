package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/corpusflow/corpusflow/pipelines"
)

func init() {
	register(command{name: "validate", usage: "PIPELINE.yaml...", summary: "check pipeline files without running them (exit 0 valid, 2 not)", run: runValidate})
}

func runValidate(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: corpusflow validate PIPELINE.yaml...")
		return exitUsage
	}
	code := exitOK
	for _, path := range fs.Args() {
		p, err := pipelines.Load(path)
		if err != nil {
			printLoadError(path, err)
			code = exitUsage
			continue
		}
		fmt.Printf("%s: valid (%d sources, %d stages, %d sinks)\n", path, len(p.Sources), len(p.Stages), len(p.Sinks))
	}
	return code
}

// printLoadError prints every problem of a pipeline file, one per line.
func printLoadError(path string, err error) {
	var ps pipelines.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(os.Stderr, p.String())
		}
		return
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
}
