#!/usr/bin/env bash
# Peak RSS of a whole run as the input grows: builds JSONL inputs of about
# 250 MB, 500 MB and 1 GB by repeating the bundled CCNet and WikiText sample
# (as one big file, so streaming within a file is what is measured), runs
# jsonl → c4 → exact_dedup → JSONL.zst on them, and prints the peak RSS and
# throughput of each run. Memory must stay flat as the input grows.
#
#   scripts/bench_rss.sh [WORKDIR]     (default: a temporary directory)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
go build -o "$work/corpusflow" "$repo/cmd/corpusflow"

# One ~1 MB unit of real text as JSONL: CCNet pages and WikiText paragraphs.
unit="$work/unit.jsonl"
{
  zcat "$repo"/testdata/corpus/dolma-cc_en_head-*.jsonl.gz
  zcat "$repo/testdata/corpus/wikitext-2-test.txt.gz" | awk 'length($0) > 200 { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); printf "{\"text\":\"%s\"}\n", $0 }'
} > "$unit"
unit_bytes=$(stat -c %s "$unit")

for mb in 250 500 1000; do
  input="$work/input-${mb}MB.jsonl"
  if [ ! -s "$input" ]; then
    copies=$(( mb * 1000000 / unit_bytes + 1 ))
    for _ in $(seq "$copies"); do cat "$unit"; done > "$input"
  fi
  cat > "$work/rss-$mb.yaml" <<YAML
name: rss-$mb
output: out-$mb
sources:
  - type: jsonl
    path: input-${mb}MB.jsonl
stages:
  - use: c4
  - use: exact_dedup
sinks:
  - type: jsonl
    path: kept.jsonl.zst
YAML
  rm -rf "$work/out-$mb"
  /usr/bin/time -f "%M %e" -o "$work/time-$mb" "$work/corpusflow" run "$work/rss-$mb.yaml" --quiet --log-level error
  read -r rss_kb secs < "$work/time-$mb"
  size=$(stat -c %s "$input")
  awk -v s="$size" -v r="$rss_kb" -v t="$secs" 'BEGIN { printf "input %5d MB  peak RSS %6.1f MB  %6.1f s  %6.1f MB/s\n", s/1e6, r/1024, t, s/1e6/t }'
done
