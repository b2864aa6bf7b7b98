#!/usr/bin/env bash
# Training speed side by side: the Go trainer (pure-Go BLAS and OpenBLAS
# builds) against the same model in PyTorch on CPU, interleaved in one run so
# that the machine's load hits all of them alike. One process per figure, so
# the peak resident memory belongs to that configuration alone.
#
#   trainer/parity/speed.sh            # ROUNDS=2 STEPS=5 by default
#
# Needs: Go, libopenblas-dev (for -tags openblas), python3 with torch.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-2}
steps=${STEPS:-5}
py=${PYTHON:-/usr/bin/python3}

go_bench() { # tags config steps threads
  local out
  out=$(GOMAXPROCS=$4 go test $1 -run XXX -bench "TrainStep/$2\$" -benchtime "$3x" -count 1 . | grep '^BenchmarkTrainStep')
  # BenchmarkTrainStep/tiny-2  5  1064052530 ns/op  0.98 cpu-s/step  302.6 peakRSS-MiB  3850 tokens/s
  awk -v tags="${1:-pure-go}" -v cfg="$2" -v th="$4" '{printf "{\"framework\": \"go %s\", \"config\": \"%s\", \"threads\": %s, \"s_per_step\": %.3f, \"tokens_per_s\": %d, \"cpu_s_per_step\": %s, \"tokens_per_cpu_s\": %d, \"peak_rss_mib\": %s}\n", tags, cfg, th, $3/1e9, $9, $5, 4096/$5, $7}' <<<"$out"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for cfg in tiny mini; do
    go_bench "-tags=openblas" "$cfg" "$steps" 2
    "$py" parity/torch_bert.py bench --config "$cfg" --steps "$steps" --threads 2
    go_bench "-tags=openblas" "$cfg" "$steps" 1
    "$py" parity/torch_bert.py bench --config "$cfg" --steps "$steps" --threads 1
  done
done
# The pure-Go build once, with fewer steps: it is an order of magnitude slower.
go_bench "" tiny 2 2
go_bench "" mini 1 2
echo "# end $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
