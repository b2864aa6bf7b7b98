#!/usr/bin/env bash
# Side-by-side tokenization benchmark, in one run on one machine:
# corpusflow's Go tokenizers against Hugging Face tokenizers (Node binding)
# and tiktoken, on the same lines (the golden corpus, English and Chinese).
# The machine is shared, so every figure is the best of several rounds.
#
#   tools/golden/bench.sh            # ROUNDS=5 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d tools/golden/node_modules ] || npm ci --prefix tools/golden
rounds="${ROUNDS:-5}"
echo "== corpusflow (Go), GOMAXPROCS 1 and 2, best of $rounds (MB/s of UTF-8 text, tokens/s; wall clock and per CPU-second)"
go test ./tokenize -run '^$' -bench 'BenchmarkEncodeParallel' -cpu 1,2 -benchtime 3x -count "$rounds" |
  awk '/^Benchmark/ { for (i = 1; i <= NF; i++) {
           if ($(i+1) == "MB/s" && $i > wall[$1]) wall[$1] = $i
           if ($(i+1) == "cpuMB/s" && $i > cpu[$1]) cpu[$1] = $i
           if ($(i+1) == "tokens/s" && $i > tok[$1]) tok[$1] = $i
           if ($(i+1) == "tokens/cpu-s" && $i > ctok[$1]) ctok[$1] = $i } }
       END { for (n in wall) printf "%-48s %8.2f MB/s %8.2f cpuMB/s %7.2f M tokens/s %7.2f M tokens/cpu-s\n",
                                    n, wall[n], cpu[n], tok[n] / 1e6, ctok[n] / 1e6 }' | sort
for threads in 1 2; do
  echo "== Hugging Face tokenizers (Node), RAYON_NUM_THREADS=$threads, best of $rounds"
  ROUNDS="$rounds" RAYON_NUM_THREADS=$threads node tools/golden/bench.js
done
