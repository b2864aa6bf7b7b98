#!/usr/bin/python3
"""Writes the lines that filter/testdata/punkt_nltk_*.tsv count.

  punkt_lines.py real      > lines.txt   # Dolma CC lines + every 4th WikiText-2 valid paragraph
                                         # (testdata/text and testdata/corpus of this repository)
  punkt_lines.py synthetic > lines.txt   # 4,000 lines of tricky tokens (seeded)

Then: scripts/punkt_oracle.py english.json < lines.txt > filter/testdata/punkt_nltk_<kind>.tsv
"""
import gzip
import json
import os
import random
import sys

# The repository's own copies of the shared sample text (byte-for-byte; see
# testdata/text/PROVENANCE.md and testdata/corpus/PROVENANCE.md).
TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")


def real():
    lines = []
    for f in ["dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"]:
        for row in open(os.path.join(TESTDATA, "text", f), encoding="utf-8"):
            for x in json.loads(row)["text"].splitlines():
                if x.strip():
                    lines.append(x.strip())
    with gzip.open(os.path.join(TESTDATA, "corpus", "wikitext-2-valid.txt.gz"), "rt", encoding="utf-8") as f:
        wiki = [x.strip() for x in f if x.strip() and not x.strip().startswith("=")]
    lines += wiki[::4]
    seen = set()
    for x in lines:
        if x not in seen:
            seen.add(x)
            print(x)


def synthetic():
    random.seed(7)
    toks = ["Mr.", "Dr.", "e.g.", "i.e.", "etc.", "U.S.", "J.", "S.", "Bach.", "He", "he", "The", "the",
            "said", "\"Hi.\"", "(see", "it.)", "3.50", "5.", "1990.", "p.m.", "...", "....", "--", "-", "?",
            "!", "?!", "end.", "end!", "end?", "'quoted.'", "[1]", "{x}", "Inc.", "Corp.", "vs.", "No.", "no.",
            "a", "b.", "C.", "word,", "x:", "@home", "#tag", "*", "It", "But", "In", "sales", "Sales", "\u201d",
            "\u201cQuote.\u201d", "\u3002", "\u00e9.", "\u00c9cole.", "\u00dcnited.", "ok.)", "\"ok.\"", "end.\"",
            "--end.", "a.b.c.", "A.B.C.", "1.", "2.", "$5.", "-3.", "Jan.", "Feb.", "Sept.", "St.", "mt.",
            "Fig.", "Vol.", "http://x.com/a.html?q=1!", "x.y", "co.", "Co.", "ltd.", "Ltd.", "...But", "so...",
            "Yes", "yes", "\u2163.", "\u01c5.", "\u00df."]
    seps = [" ", " ", " ", " ", "  ", "\t", "\u00a0", " \u3000"]
    for _ in range(4000):
        n = random.randint(2, 14)
        s = ""
        for i in range(n):
            s += random.choice(toks)
            if i < n - 1:
                s += random.choice(seps)
        s = s.strip()
        if s and "\n" not in s:
            print(s)


if __name__ == "__main__":
    {"real": real, "synthetic": synthetic}[sys.argv[1]]()
