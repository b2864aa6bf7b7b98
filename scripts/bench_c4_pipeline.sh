#!/usr/bin/env bash
# Whole-pipeline throughput of pipelines/c4-en.yaml's stages (c4 → lang →
# badwords → JSONL) on a larger input: the 20 Dolma Common Crawl pages and the
# 62 WikiText-2 test articles repeated to about 50 MB of JSONL (unique ids and
# URLs). Prints input MB, seconds and MB/s for the given worker count.
#
#   scripts/bench_c4_pipeline.sh [workers=2] [target_mb=50]
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-2}
target_mb=${2:-50}
dir=$(mktemp -d /tmp/c4bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/corpusflow" ./cmd/corpusflow
/usr/bin/python3 - "$dir/pages.jsonl" "$target_mb" <<'PY'
import gzip, json, re, sys
out, target = sys.argv[1], int(sys.argv[2]) * 1_000_000
pages = []
for name in ["dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"]:
    for row in open("testdata/text/" + name, encoding="utf-8"):
        d = json.loads(row)
        pages.append((d["metadata"]["url"], d["text"]))
cur = None
for raw in gzip.open("testdata/corpus/wikitext-2-test.txt.gz").read().decode().split("\n"):
    m = re.match(r"^ = ([^=].*) = $", raw)
    if m:
        if cur: pages.append(cur)
        cur = ["https://en.wikipedia.org/wiki/" + m.group(1).replace(" ", "_"), ""]
    elif cur:
        cur[1] += raw + "\n"
pages.append(cur)
size, i = 0, 0
with open(out, "w", encoding="utf-8") as f:
    while size < target:
        url, text = pages[i % len(pages)]
        line = json.dumps({"id": str(i), "url": url + "#" + str(i), "text": text}, ensure_ascii=False) + "\n"
        f.write(line)
        size += len(line.encode())
        i += 1
PY
cat > "$dir/c4-en-bench.yaml" <<YAML
name: c4-en-bench
output: $dir/out
workers: $workers
sources:
  - type: jsonl
    path: $dir/pages.jsonl
stages:
  - use: c4
    language: en
  - use: lang
    languages: [en]
    min_score: 0.99
  - use: badwords
    list: $PWD/testdata/badwords/en.c4-25e679f0
    language: en
sinks:
  - type: jsonl
    path: c4-en.jsonl.gz
YAML
# The machine is shared, so CPU seconds are reported beside wall-clock time:
# MB per CPU-second times the cores is what an unloaded machine would do.
/usr/bin/time -f "%U %S" -o "$dir/cpu" "$dir/corpusflow" run --workers "$workers" "$dir/c4-en-bench.yaml" 2>&1 | tail -9
/usr/bin/python3 - "$dir/out/stats.json" "$dir/cpu" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
user, system = map(float, open(sys.argv[2]).read().split()[-2:])
mb = sum(src["bytes"] for src in s["sources"]) / 1e6
cpu = user + system
print(f"input {mb:.1f} MB of text, {s['elapsed_s']:.2f} s wall, {mb / s['elapsed_s']:.1f} MB/s with {s['workers']} workers; "
      f"CPU {cpu:.2f} s = {mb / cpu:.1f} MB per CPU-second")
PY
uptime
