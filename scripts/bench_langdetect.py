#!/usr/bin/python3
"""Python langdetect (what TFDS's C4 used) on the same documents as corpusflow's
lang benchmark and accuracy test (filter/langeval_test.go builds them the same
way): English WikiText-2 test paragraphs + Dolma CC pages, Chinese zhwiki
paragraphs, each at least 100 bytes.

Needs Debian's python3-langdetect. Prints, per language and per input size
(whole documents, and the first 500 characters of each, which is what
corpusflow's lang stage reads by default: max_chars 500): documents, docs/s,
MB/s (one core: langdetect is single-threaded), CPU seconds, top-1 accuracy,
the share labelled correctly with probability >= 0.99, and the wrong labels.
MB/s always counts whole documents, so only docs/s compares the two sizes.

By default the documents come from the repository itself:
testdata/corpus/wikitext-2-test.txt.gz and zhwiki-AA-wiki_00.txt.gz (gzip)
and testdata/text/dolma-cc_en_head-*.jsonl. A directory argument holding the
uncompressed files (wikitext-2-test.txt, zhwiki-AA-wiki_00.txt and the Dolma
JSONL) is read instead.

  /usr/bin/python3 scripts/bench_langdetect.py [TEXT_DIR] [--max-chars N ...]
"""
import argparse
import collections
import gzip
import json
import os
import time

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

MIN_BYTES = 100
REPO_TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")


def open_text(text_dir, name):
    """Opens NAME in TEXT_DIR when one is given, else the repository's copy:
    testdata/corpus/NAME.gz or testdata/text/NAME."""
    if text_dir:
        return open(os.path.join(text_dir, name), encoding="utf-8")
    packed = os.path.join(REPO_TESTDATA, "corpus", name + ".gz")
    if os.path.exists(packed):
        return gzip.open(packed, "rt", encoding="utf-8")
    return open(os.path.join(REPO_TESTDATA, "text", name), encoding="utf-8")


def docs(text_dir):
    out = []
    with open_text(text_dir, "wikitext-2-test.txt") as f:
        for line in f:
            line = line.strip()
            if len(line.encode()) >= MIN_BYTES and not line.startswith("="):
                out.append(("en", line))
    for name in ["dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"]:
        with open_text(text_dir, name) as f:
            for row in f:
                out.append(("en", json.loads(row)["text"]))
    title = False
    with open_text(text_dir, "zhwiki-AA-wiki_00.txt") as f:
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("text_dir", nargs="?", help="directory with the uncompressed files (default: the repository's testdata)")
    ap.add_argument("--max-chars", type=int, nargs="*", default=[0, 500],
                    help="classify the first N characters of each document; 0 = all of it (default: 0 500)")
    args = ap.parse_args()
    DetectorFactory.seed = 0  # as TFDS does, for deterministic results
    all_docs = docs(args.text_dir)
    detect_langs("warm up the profiles")
    for max_chars in args.max_chars:
        for lang in ["en", "zh"]:
            subset = [t for l, t in all_docs if l == lang]
            nbytes = sum(len(t.encode()) for t in subset)
            inputs = [t[:max_chars] if max_chars > 0 else t for t in subset]
            correct = confident = 0
            wrong = collections.Counter()
            wall, cpu = time.perf_counter(), time.process_time()
            for text in inputs:
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
            size = f"first {max_chars} chars" if max_chars > 0 else "whole documents"
            print(f"{lang} ({size}): {len(subset)} docs, {nbytes / 1e6:.2f} MB, {len(subset) / cpu:.1f} docs/s, "
                  f"{nbytes / 1e6 / cpu:.3f} MB/s per core (CPU time {cpu:.1f} s, wall {wall:.1f} s), "
                  f"accuracy {correct / len(subset):.4f}, correct with p>=0.99 {confident / len(subset):.4f}, "
                  f"wrong labels {dict(wrong)}")


if __name__ == "__main__":
    main()
