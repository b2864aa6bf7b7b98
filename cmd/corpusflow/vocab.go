package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/corpusflow/corpusflow/flow"
	"github.com/corpusflow/corpusflow/pipelines"
	"github.com/corpusflow/corpusflow/tokenize"
)

func init() {
	register(command{
		name:    "vocab",
		usage:   "train --kind wordpiece|bpe --size N --out DIR [--cased] [--compare VOCAB] (--pipeline PIPELINE.yaml | FILE...)",
		summary: "learn a WordPiece or byte-level BPE vocabulary from a pipeline's text stream or from text/JSONL files (plain, gzip or zstd)",
		run:     runVocab,
	})
}

func runVocab(args []string) int {
	if len(args) == 0 || args[0] != "train" {
		fmt.Fprintln(os.Stderr, "usage: corpusflow vocab train --kind wordpiece|bpe --size N --out DIR [--cased] [--compare VOCAB] (--pipeline PIPELINE.yaml | FILE...)")
		return exitUsage
	}
	fs := flag.NewFlagSet("vocab train", flag.ContinueOnError)
	kind := fs.String("kind", tokenize.KindWordPiece, "wordpiece (BERT vocab.txt) or bpe (byte-level vocab.json + merges.txt)")
	size := fs.Int("size", 30522, "vocabulary size, special tokens and alphabet included")
	out := fs.String("out", "", "directory to write the vocabulary files into")
	cased := fs.Bool("cased", false, "wordpiece: keep case and accents (default: lowercase and strip accents, like bert-base-uncased)")
	minFreq := fs.Int64("min-frequency", 2, "merge only pairs seen at least this often")
	maxWords := fs.Int("max-words", tokenize.DefaultMaxWords, "distinct words kept while counting; the rarest are forgotten beyond this (bounds memory)")
	pipeline := fs.String("pipeline", "", "take the text of the records a pipeline produces (its sinks are not run)")
	compare := fs.String("compare", "", "reference vocabulary to compare tokens per word with, on the first 10 MB of the training text")
	files, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return exitUsage
	}
	if *out == "" || (*pipeline == "") == (len(files) == 0) {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train: --out and either --pipeline or input files are required")
		return exitUsage
	}
	counter, err := tokenize.NewWordCounter(*kind, tokenize.BertOptions(!*cased), *maxWords)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train:", err)
		return exitUsage
	}
	sample := &textSample{limit: 10 << 20}
	add := func(text string) {
		counter.Add(text)
		sample.add(text)
	}
	if *pipeline != "" {
		if code := countPipeline(*pipeline, add); code != exitOK {
			return code
		}
	} else {
		var skipped fileCount
		for _, f := range files {
			c, err := countFile(f, add)
			if err != nil {
				fmt.Fprintln(os.Stderr, "corpusflow vocab train:", err)
				return exitFailure
			}
			skipped.badUTF8 += c.badUTF8
			skipped.badJSON += c.badJSON
		}
		if skipped.badUTF8+skipped.badJSON > 0 {
			fmt.Fprintf(os.Stderr, "corpusflow vocab train: skipped %d lines that are not valid UTF-8 and %d that are not JSON objects\n",
				skipped.badUTF8, skipped.badJSON)
		}
	}
	vocab, err := tokenize.Train(counter, tokenize.TrainOptions{VocabSize: *size, MinFrequency: *minFreq})
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train:", err)
		return exitFailure
	}
	paths, err := vocab.WriteFiles(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train:", err)
		return exitFailure
	}
	st := counter.Stats()
	fmt.Printf("counted %d texts, %d bytes, %d words (%d distinct kept, %d forgotten in %d prunings)\n",
		st.Texts, st.Bytes, st.Words, counter.Len(), st.Pruned, st.Prunes)
	fmt.Printf("wrote %s: %d tokens (%d merges learned)\n", strings.Join(paths, ", "), len(vocab.Tokens), vocab.Learned)
	if *compare != "" {
		var trained tokenize.Tokenizer
		if *kind == tokenize.KindBPE {
			trained, err = tokenize.LoadBPE(paths[0], paths[1])
		} else {
			trained, err = tokenize.LoadWordPiece(paths[0], tokenize.BertOptions(!*cased))
		}
		if err == nil {
			var ref tokenize.Tokenizer
			if ref, err = tokenize.Load(*compare); err == nil {
				fmt.Printf("tokens per word on %d texts of the training input: trained %.3f, %s %.3f\n",
					len(sample.texts), tokenize.TokensPerWord(trained, sample.texts), *compare, tokenize.TokensPerWord(ref, sample.texts))
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "corpusflow vocab train: --compare:", err)
			return exitFailure
		}
	}
	return exitOK
}

// textSample keeps the first limit bytes of text for the comparison.
type textSample struct {
	texts []string
	bytes int
	limit int
}

func (s *textSample) add(t string) {
	if s.bytes < s.limit {
		s.texts = append(s.texts, t)
		s.bytes += len(t)
	}
}

// countPipeline runs a pipeline's sources and its stages before tokenization
// and counts the text of every record that comes out, in order (so training
// stays deterministic).
func countPipeline(path string, add func(string)) int {
	p, err := pipelines.Load(path)
	if err != nil {
		printLoadError(path, err)
		return exitUsage
	}
	p.Sinks, p.Rejects = nil, nil
	// Stages' own reports (a decontamination audit) go to a scratch
	// directory, not among the vocabulary files.
	scratch, err := os.MkdirTemp("", "corpusflow-vocab-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train:", err)
		return exitFailure
	}
	defer os.RemoveAll(scratch)
	built, err := p.Build(pipelines.BuildOptions{Output: scratch})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitUsage
	}
	// The text stream ends where tokenizing begins: stages from the first
	// tokenize or pack on turn text into ids and are not run.
	for i, st := range built.Plan.Stages {
		if st.Use == "tokenize" || st.Use == "pack" {
			fmt.Fprintf(os.Stderr, "corpusflow vocab train: counting the text that enters stage %q; it and the stages after it are not run\n", st.Name)
			built.Plan.Stages = built.Plan.Stages[:i]
			break
		}
	}
	built.Plan.Sinks = []flow.NamedSink{{Name: "vocab_train", Sink: countSink(add)}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := flow.Run(ctx, built.Plan); err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train:", err)
		return exitFailure
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "corpusflow vocab train: interrupted; no vocabulary written")
		return exitInterrupted
	}
	return exitOK
}

// countSink hands each record's text to the word counter.
type countSink func(string)

func (c countSink) Write(r *flow.Record) error { c(r.Text); return nil }
func (c countSink) Close() error               { return nil }
