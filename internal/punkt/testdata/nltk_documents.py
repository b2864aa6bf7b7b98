#!/usr/bin/python3
"""Writes nltk_documents.jsonl: multi-line documents with the number of
sentences NLTK's own Punkt finds in each whole document (line breaks are
whitespace to it), for TestCountMatchesNLTKOnDocuments. line_dedup counts a
whole document at once, as TFDS's C4 line dedup did.

Documents: the 20 Common Crawl pages of testdata/corpus/dolma-cc_en_head-
0091.jsonl.gz and -0174.jsonl.gz, and 200 runs of 6 consecutive lines of
testdata/corpus/wikitext-2-valid.txt.gz (headings and blank lines included;
runs of blank lines only are left out), each cut to at most 1,500
characters at a line break.

Usage (Debian python3-nltk; from the repository root):
  ENGLISH_JSON="$(go list -m -f '{{.Dir}}' github.com/neurosnap/sentences)/data/english.json"
  /usr/bin/python3 internal/punkt/testdata/nltk_documents.py "$ENGLISH_JSON" \
      > internal/punkt/testdata/nltk_documents.jsonl
"""
import gzip
import json
import sys
from collections import defaultdict

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

LIMIT = 1500


def load_params(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    p = PunktParameters()
    p.abbrev_types = set(d["AbbrevTypes"])
    p.collocations = {tuple(k.split(",", 1)) for k in d["Collocations"]}
    p.sent_starters = set(d["SentStarters"])
    p.ortho_context = defaultdict(int, d["OrthoContext"])
    return p


def cut(text):
    if len(text) <= LIMIT:
        return text
    i = text.rfind("\n", 0, LIMIT)
    return text[:i] if i > 0 else text[:LIMIT]


def documents():
    for name in ("dolma-cc_en_head-0091.jsonl.gz", "dolma-cc_en_head-0174.jsonl.gz"):
        with gzip.open("testdata/corpus/" + name, "rt", encoding="utf-8") as f:
            for line in f:
                yield cut(json.loads(line)["text"])
    with gzip.open("testdata/corpus/wikitext-2-valid.txt.gz", "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n in range(200):
        yield cut("\n".join(lines[n * 18 : n * 18 + 6]))


def main():
    tok = PunktSentenceTokenizer(load_params(sys.argv[1]))
    for text in documents():
        if text.strip():
            sys.stdout.write(json.dumps({"count": len(tok.tokenize(text)), "text": text}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
