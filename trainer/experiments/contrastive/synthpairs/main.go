// Command synthpairs writes synthetic image–caption pairs with known
// content (1–3 shapes of one colour and kind in one half of a 64×64
// picture, captioned in English or Chinese) as a folder an image_text
// source reads: OUT/images/*.jpg and OUT/pairs.jsonl. The contrastive
// trainer's learning curves in BENCHMARKS.md are measured on them:
//
//	go run ./trainer/experiments/contrastive/synthpairs -lang en -n 6000 -out out/synth-pairs-en
//	corpusflow run trainer/experiments/contrastive/synth-en.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/corpusflow/corpusflow/trainer"
)

func main() {
	lang := flag.String("lang", "en", "caption language: en or zh")
	n := flag.Int("n", 6000, "pairs")
	seed := flag.Uint64("seed", 1, "seed (the same seed and index give the same pair)")
	out := flag.String("out", "", "output folder")
	flag.Parse()
	if *out == "" || (*lang != "en" && *lang != "zh") || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: synthpairs -lang en|zh -n N -out DIR [-seed S]")
		os.Exit(2)
	}
	g := trainer.SynthPairs{Lang: *lang, Seed: *seed}
	if err := g.WriteFolder(*out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "synthpairs:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wrote %d pairs (%d distinct contents) to %s\n", *n, g.Distinct(), *out)
}
