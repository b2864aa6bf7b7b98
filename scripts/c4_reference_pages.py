#!/usr/bin/python3
"""Prints the pages of TestC4MatchesTFDSReference as JSON lines {"id", "text"},
in the order the Go test builds them from the repository's testdata:

  1. the conversion records of testdata/warc/whirlwind.warc.wet.gz;
  2. the 20 Dolma Common Crawl pages, testdata/text/dolma-cc_en_head-*.jsonl;
  3. the WikiText-2 test articles of testdata/corpus/wikitext-2-test.txt.gz,
     cut at top-level headings " = Title = " (the heading line starts the
     next article and is not part of any page);
  4. the Chinese Wikipedia articles of testdata/zhwiki (TFDS's English rules
     drop them, which is part of what is checked).

  /usr/bin/python3 scripts/c4_reference_pages.py | \
    /usr/bin/python3 scripts/tfds_clean_page.py english.json > filter/testdata/c4_tfds_reference.jsonl
"""
import gzip
import json
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")


def pages():
    data = gzip.open(os.path.join(ROOT, "warc", "whirlwind.warc.wet.gz")).read()
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        fields = dict(l.split(b":", 1) for l in head.split(b"\r\n") if b":" in l)
        n = int(fields[b"Content-Length"].strip())
        if fields.get(b"WARC-Type", b"").strip() == b"conversion":
            yield {"id": fields[b"WARC-Record-ID"].strip().decode(), "text": rest[:n].decode()}
        data = rest[n:].lstrip(b"\r\n")
    for name in ["dolma-cc_en_head-0091.jsonl", "dolma-cc_en_head-0174.jsonl"]:
        with open(os.path.join(ROOT, "text", name), encoding="utf-8") as f:
            for row in f:
                d = json.loads(row)
                yield {"id": d["id"], "text": d["text"]}
    cur = None
    with gzip.open(os.path.join(ROOT, "corpus", "wikitext-2-test.txt.gz")) as f:
        for raw in f.read().decode("utf-8").split("\n"):
            m = re.match(r"^ = ([^=].*) = $", raw)
            if m:
                if cur:
                    yield cur
                cur = {"id": "wikitext:" + m.group(1), "text": ""}
            elif cur is not None:
                cur["text"] += raw + "\n"
    if cur:
        yield cur
    with open(os.path.join(ROOT, "zhwiki", "zhwiki-AA-wiki_00-articles.jsonl"), encoding="utf-8") as f:
        for row in f:
            d = json.loads(row)
            yield {"id": d["id"], "text": d["text"]}


for p in pages():
    print(json.dumps(p, ensure_ascii=False))
