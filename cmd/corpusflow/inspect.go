package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/corpusflow/corpusflow/pack"
	"github.com/corpusflow/corpusflow/tokenize"
)

func init() {
	register(command{
		name:    "inspect",
		usage:   "SHARD_DIR|SHARD.arrow [--vocab FILE] [--examples N] [--max-rows N]",
		summary: "print an Arrow shard directory's schema, metadata, row and token statistics and first examples as text",
		run:     runInspect,
	})
}

func runInspect(args []string) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	vocab := fs.String("vocab", "", "vocabulary to decode examples with (vocab.txt, tokenizer.json, vocab.json); its checksum must match the shards'")
	examples := fs.Int("examples", 3, "examples to print")
	maxRows := fs.Int("max-rows", 0, "rows to read for the statistics; 0 = all (verifies every shard's checksum)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, "usage: corpusflow inspect SHARD_DIR|SHARD.arrow [--vocab FILE] [--examples N] [--max-rows N]")
		return exitUsage
	}
	opts := pack.InspectOptions{Examples: *examples, MaxRows: *maxRows}
	if *vocab != "" {
		tok, err := tokenize.Load(*vocab)
		if err != nil {
			fmt.Fprintln(os.Stderr, "corpusflow inspect:", err)
			return exitUsage
		}
		opts.Vocab = tok
	}
	if err := pack.Inspect(os.Stdout, pos[0], opts); err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow inspect:", err)
		return exitFailure
	}
	return exitOK
}
