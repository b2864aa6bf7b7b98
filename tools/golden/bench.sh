#!/usr/bin/env bash
# Side-by-side tokenization benchmark, in one run on one machine:
# corpusflow's Go tokenizers against Hugging Face tokenizers (Node binding)
# and tiktoken, on the same lines (the golden corpus, English and Chinese).
#
#   tools/golden/bench.sh            # BENCHTIME=5x ROUNDS=2 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d tools/golden/node_modules ] || npm ci --prefix tools/golden
echo "== corpusflow (Go), GOMAXPROCS 1 and 2"
go test ./tokenize -run '^$' -bench 'BenchmarkEncodeParallel' -cpu 1,2 -benchtime "${BENCHTIME:-5x}" -count 1 | grep -E '^Benchmark'
for threads in 1 2; do
  echo "== Hugging Face tokenizers ${HF_VERSION:-} (Node), RAYON_NUM_THREADS=$threads"
  RAYON_NUM_THREADS=$threads node tools/golden/bench.js
done
