#!/usr/bin/python3
"""Python langdetect (what TFDS's C4 used) on the same documents as corpusflow's
lang benchmark and accuracy test (filter/langeval_test.go builds them the same
way): English WikiText-2 test paragraphs + Dolma CC pages, Chinese zhwiki
paragraphs, each at least 100 bytes.

Needs Debian's python3-langdetect. Prints, per language: documents, docs/s,
MB/s (one core: langdetect is single-threaded), CPU seconds, top-1 accuracy,
the share labelled correctly with probability >= 0.99, and the wrong labels.

  /usr/bin/python3 scripts/bench_langdetect.py [../shared/testdata/text]
"""
import collections
import json
import os
import sys
import time

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

MIN_BYTES = 100


def docs(text_dir):
    out = []
    with open(os.path.join(text_dir, "wikitext-2-test.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if len(line.encode()) >= MIN_BYTES and not line.startswith("="):
                out.append(("en", line))
    for name in ["dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"]:
        with open(os.path.join(text_dir, name), encoding="utf-8") as f:
            for row in f:
                out.append(("en", json.loads(row)["text"]))
    title = False
    with open(os.path.join(text_dir, "zhwiki-AA-wiki_00.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("<doc"):
                title = True
            elif line == "" or line.startswith("</doc>"):
                pass
            elif title:
                title = False
            elif len(line.encode()) >= MIN_BYTES:
                out.append(("zh", line))
    return out


def main():
    text_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "testdata", "text")
    DetectorFactory.seed = 0  # as TFDS does, for deterministic results
    all_docs = docs(text_dir)
    detect_langs("warm up the profiles")
    for lang in ["en", "zh"]:
        subset = [t for l, t in all_docs if l == lang]
        nbytes = sum(len(t.encode()) for t in subset)
        correct = confident = 0
        wrong = collections.Counter()
        wall, cpu = time.perf_counter(), time.process_time()
        for text in subset:
            try:
                best = detect_langs(text)[0]
                code, prob = best.lang.split("-")[0], best.prob
            except LangDetectException:
                code, prob = "", 0.0
            if code == lang:
                correct += 1
                confident += prob >= 0.99
            else:
                wrong[code] += 1
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{lang}: {len(subset)} docs, {nbytes / 1e6:.2f} MB, {len(subset) / cpu:.1f} docs/s, "
              f"{nbytes / 1e6 / cpu:.3f} MB/s per core (CPU time {cpu:.1f} s, wall {wall:.1f} s), "
              f"accuracy {correct / len(subset):.4f}, correct with p>=0.99 {confident / len(subset):.4f}, "
              f"wrong labels {dict(wrong)}")


if __name__ == "__main__":
    main()
