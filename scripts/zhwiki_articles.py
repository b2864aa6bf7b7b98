#!/usr/bin/python3
"""Writes testdata/zhwiki/zhwiki-AA-wiki_00-articles.jsonl: the first Chinese
Wikipedia articles of the shared WikiExtractor sample (at least 8, at most
~260 KB), one JSON object per line: id, url, title, text (body between the
<doc> tags, newlines trimmed at both ends).

  /usr/bin/python3 scripts/zhwiki_articles.py ../shared/testdata/text/zhwiki-AA-wiki_00.txt > testdata/zhwiki/zhwiki-AA-wiki_00-articles.jsonl
"""
import json
import re
import sys

src = open(sys.argv[1], encoding="utf-8").read()
docs = re.findall(r'<doc id="(\d+)" url="([^"]+)" title="([^"]+)">\n(.*?)</doc>', src, re.S)
total = n = 0
for id_, url, title, body in docs:
    line = json.dumps({"id": "zhwiki-" + id_, "url": url, "title": title, "text": body.strip("\n")}, ensure_ascii=False)
    if total + len(line.encode()) > 260000 and n >= 8:
        break
    sys.stdout.write(line + "\n")
    total += len(line.encode())
    n += 1
