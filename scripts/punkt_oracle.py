#!/usr/bin/python3
"""Counts sentences per line with NLTK's real Punkt algorithm and the English
parameters TFDS's C4 used (nltk:tokenizers/punkt/english.pickle).

The pickle cannot be downloaded here, so the parameters are read from the
JSON dump of that pickle that github.com/neurosnap/sentences ships
(data/english.json: abbreviation types, collocations, sentence starters,
orthographic context). The algorithm is NLTK's own (Debian python3-nltk).

Usage: punkt_oracle.py ENGLISH_JSON < lines.txt > counts.tsv
Each output line is "<count>\t<line>" for each input line.
"""
import json
import sys
from collections import defaultdict

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def load_params(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    p = PunktParameters()
    p.abbrev_types = set(d["AbbrevTypes"])
    p.collocations = {tuple(k.split(",", 1)) for k in d["Collocations"]}
    p.sent_starters = set(d["SentStarters"])
    p.ortho_context = defaultdict(int, d["OrthoContext"])
    return p


def main():
    tok = PunktSentenceTokenizer(load_params(sys.argv[1]))
    out = sys.stdout
    for line in sys.stdin.read().split("\n"):
        if not line:
            continue
        out.write("%d\t%s\n" % (len(tok.tokenize(line)), line))


if __name__ == "__main__":
    main()
