// Command corpusflow prepares pretraining corpora: it runs YAML pipelines
// that ingest, filter, deduplicate, decontaminate, tokenize and pack text and
// image–text data into Arrow shards, and trains on them.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// Exit codes: 0 success, 1 the work failed, 2 the command or the pipeline
// definition is wrong.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. Each lives in its own file and registers itself
// in an init function, so adding a subcommand touches no other file.
type command struct {
	name    string
	usage   string // arguments, e.g. "PIPELINE.yaml [--output DIR]"
	summary string
	run     func(args []string) int
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "corpusflow: unknown command %q\n\n", args[0])
		usage()
		return exitUsage
	}
	return c.run(args[1:])
}

func usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("corpusflow prepares pretraining corpora from YAML pipelines.\n\nUsage:\n")
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(&b, "  corpusflow %s %s\n      %s\n", c.name, c.usage, c.summary)
	}
	b.WriteString("\nRun `corpusflow COMMAND -h` for a command's flags.\n")
	fmt.Fprint(os.Stderr, b.String())
}
