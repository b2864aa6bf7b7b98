#!/usr/bin/python3
"""Writes testdata/zhwiki/zhwiki-AA-wiki_00-articles.jsonl: the first Chinese
Wikipedia articles of the WikiExtractor sample (at least 8, at most ~260 KB),
one JSON object per line: id, url, title, text (body between the <doc> tags,
newlines trimmed at both ends).

The sample is read from the repository (testdata/corpus/zhwiki-AA-wiki_00.txt.gz)
unless a path is given (plain or .gz).

  /usr/bin/python3 scripts/zhwiki_articles.py [zhwiki-AA-wiki_00.txt[.gz]] > testdata/zhwiki/zhwiki-AA-wiki_00-articles.jsonl
"""
import gzip
import json
import os
import re
import sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "corpus", "zhwiki-AA-wiki_00.txt.gz")
opener = gzip.open if path.endswith(".gz") else open
with opener(path, "rt", encoding="utf-8") as f:
    src = f.read()
docs = re.findall(r'<doc id="(\d+)" url="([^"]+)" title="([^"]+)">\n(.*?)</doc>', src, re.S)
total = n = 0
for id_, url, title, body in docs:
    line = json.dumps({"id": "zhwiki-" + id_, "url": url, "title": title, "text": body.strip("\n")}, ensure_ascii=False)
    if total + len(line.encode()) > 260000 and n >= 8:
        break
    sys.stdout.write(line + "\n")
    total += len(line.encode())
    n += 1
