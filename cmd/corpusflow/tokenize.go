package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/corpusflow/corpusflow/tokenize"
)

func init() {
	register(command{
		name:    "tokenize",
		usage:   "--vocab FILE [--merges FILE] [--cased] [--special] [--decode] [--input FILE]",
		summary: "print the token ids of every input line (the same ids as Hugging Face), or with --decode the text of every line of ids",
		run:     runTokenize,
	})
}

type tokenizeFlags struct {
	vocab, merges, input string
	cased, special       bool
	decode               bool
	workers              int
}

func runTokenize(args []string) int {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	var f tokenizeFlags
	fs.StringVar(&f.vocab, "vocab", "", "vocab.txt (BERT WordPiece), tokenizer.json, or vocab.json (byte-level BPE)")
	fs.StringVar(&f.merges, "merges", "", "merges.txt: selects byte-level BPE with --vocab vocab.json (found beside it when omitted)")
	fs.BoolVar(&f.cased, "cased", false, "vocab.txt: keep case and accents (default: from tokenizer_config.json or the file name)")
	fs.BoolVar(&f.special, "special", false, "add the model's special tokens ([CLS] ... [SEP], or <|endoftext|> at the end)")
	fs.BoolVar(&f.decode, "decode", false, "read lines of space-separated ids and print their text")
	fs.StringVar(&f.input, "input", "-", "input file, one text (or id sequence) per line; - for standard input")
	fs.IntVar(&f.workers, "workers", runtime.NumCPU(), "goroutines encoding lines (output order is input order)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return exitUsage
	}
	if f.vocab == "" {
		fmt.Fprintln(os.Stderr, "corpusflow tokenize: --vocab is required")
		return exitUsage
	}
	casing := "auto"
	if f.cased {
		casing = "cased"
	}
	tok, err := tokenize.LoadForStage(f.vocab, f.merges, casing)
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow tokenize:", err)
		return exitUsage
	}
	in := io.Reader(os.Stdin)
	name := "standard input"
	if f.input != "-" {
		file, err := os.Open(f.input)
		if err != nil {
			fmt.Fprintln(os.Stderr, "corpusflow tokenize:", err)
			return exitUsage
		}
		defer file.Close()
		in, name = file, f.input
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	var lineFn func(line string, dst []byte) ([]byte, error)
	if f.decode {
		lineFn = func(line string, dst []byte) ([]byte, error) { return decodeLine(tok, line, dst) }
	} else {
		prefix, suffix := []int32(nil), []int32(nil)
		if f.special {
			prefix, suffix = tokenize.SpecialWrap(tok)
		}
		lineFn = func(line string, dst []byte) ([]byte, error) {
			ids := append([]int32(nil), prefix...)
			ids = append(tok.Encode(line, ids), suffix...)
			for i, id := range ids {
				if i > 0 {
					dst = append(dst, ' ')
				}
				dst = strconv.AppendInt(dst, int64(id), 10)
			}
			return dst, nil
		}
	}
	bad, err := mapLines(in, out, max(1, f.workers), lineFn, func(lineNo int, err error) {
		fmt.Fprintf(os.Stderr, "corpusflow tokenize: %s line %d: %v\n", name, lineNo, err)
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpusflow tokenize:", err)
		return exitFailure
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "corpusflow tokenize: %d lines could not be read (printed as empty lines)\n", bad)
		return exitFailure
	}
	return exitOK
}

// decodeLine turns "101 7592 102" into text.
func decodeLine(tok tokenize.Tokenizer, line string, dst []byte) ([]byte, error) {
	fields := strings.Fields(line)
	ids := make([]int32, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil || n < 0 || n >= int64(tok.VocabSize()) {
			return dst, fmt.Errorf("%q is not a token id (0..%d)", f, tok.VocabSize()-1)
		}
		ids = append(ids, int32(n))
	}
	return append(dst, tok.Decode(ids)...), nil
}

// mapLines applies fn to every line of in on several goroutines and writes
// the results in input order, one line each. A line fn fails on is reported,
// counted and printed empty, so output lines stay aligned with input lines.
func mapLines(in io.Reader, out io.Writer, workers int, fn func(string, []byte) ([]byte, error), report func(int, error)) (bad int, err error) {
	const batchLines = 256
	type batch struct {
		first int
		lines []string
		out   []byte
		errs  []error
		bad   []int // line numbers of errs
		done  chan struct{}
	}
	work := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers)
	for range workers {
		go func() {
			for b := range work {
				for i, l := range b.lines {
					var e error
					b.out, e = fn(l, b.out)
					if e != nil {
						b.errs = append(b.errs, e)
						b.bad = append(b.bad, b.first+i)
					}
					b.out = append(b.out, '\n')
				}
				close(b.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(ordered)
		r := bufio.NewReaderSize(in, 1<<16)
		lineNo := 1
		for {
			b := &batch{first: lineNo, done: make(chan struct{})}
			var rerr error
			for len(b.lines) < batchLines {
				line, e := r.ReadString('\n')
				if line == "" && e != nil {
					rerr = e
					break
				}
				line = strings.TrimSuffix(line, "\n")
				line = strings.TrimSuffix(line, "\r")
				b.lines = append(b.lines, line)
				lineNo++
				if e != nil {
					rerr = e
					break
				}
			}
			if len(b.lines) > 0 {
				ordered <- b
				work <- b
			}
			if rerr != nil {
				if errors.Is(rerr, io.EOF) {
					rerr = nil
				}
				readErr <- rerr
				return
			}
		}
	}()
	for b := range ordered {
		<-b.done
		bad += len(b.errs)
		// Reported here, in input order and on one goroutine, so messages
		// come out in line order and report need not be safe for concurrency.
		for i, e := range b.errs {
			report(b.bad[i], e)
		}
		if err == nil {
			_, err = out.Write(b.out)
		}
	}
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return bad, err
}
