#!/usr/bin/python3
"""Reference outputs of TFDS's C4 clean_page (tensorflow_datasets/text/c4_utils.py)
for filter/testdata/c4_tfds_reference.jsonl.

The rules below restate clean_page's (same order, same constants, Python's
own splitlines/strip/split/lower), with its sentence counter: NLTK Punkt and
the English model's parameters, loaded as in scripts/punkt_oracle.py. Pages
longer than 190,000 characters are dropped first, as TFDS's is_valid_length.

Input: JSON lines with "id" and "text" on stdin (scripts/c4_reference_pages.py).
Output: one JSON line per page: "id", "input_sha256" (of the page's UTF-8
text, so the Go test knows it built the same page), and either "sha256" and
"lines" of the cleaned text or "reason" (named as corpusflow's c4 stage names
it).

  /usr/bin/python3 scripts/c4_reference_pages.py | /usr/bin/python3 scripts/tfds_clean_page.py ENGLISH_JSON
"""
import hashlib
import json
import re
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from punkt_oracle import load_params  # noqa: E402
from nltk.tokenize.punkt import PunktSentenceTokenizer  # noqa: E402

MIN_WORDS_PER_LINE = 5
MIN_NUM_SENTENCES = 3
MAX_WORD_LENGTH = 1000
MAX_PAGE_CHARS = 1.9e5
END_MARKS = (".", "?", "!", '"')
ELLIPSIS = "..."
POLICY = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]
CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")


def clean(text, tok):
    if len(text) > MAX_PAGE_CHARS:
        return None, "page_too_long"
    kept, sentences = [], 0
    for line in text.splitlines():
        line = line.strip()
        if any(len(w) > MAX_WORD_LENGTH for w in line.split()):
            continue
        line = CITATION.sub("", line)
        if not line.endswith(END_MARKS) or line.endswith(ELLIPSIS):
            continue
        if len(line.split()) < MIN_WORDS_PER_LINE:
            continue
        low = line.lower()
        if "lorem ipsum" in low:
            return None, "lorem_ipsum"
        if "javascript" in low:
            continue
        if "{" in line:
            return None, "curly_bracket"
        if any(p in low for p in POLICY):
            continue
        sentences += len(tok.tokenize(line))
        kept.append(line)
    if sentences < MIN_NUM_SENTENCES:
        return None, "too_few_sentences"
    return "\n".join(kept).strip(), None


def main():
    tok = PunktSentenceTokenizer(load_params(sys.argv[1]))
    cpu, nbytes = 0.0, 0
    for row in sys.stdin:
        page = json.loads(row)
        start = time.process_time()
        text, reason = clean(page["text"], tok)
        cpu += time.process_time() - start
        nbytes += len(page["text"].encode("utf-8"))
        out = {"id": page["id"], "input_sha256": sha256(page["text"])}
        if reason is None:
            out.update(sha256=sha256(text), lines=text.count("\n") + 1)
        else:
            out["reason"] = reason
        print(json.dumps(out, ensure_ascii=False))
    # clean_page's own speed, for BENCHMARKS.md (stderr keeps stdout clean).
    print(f"clean_page: {nbytes / 1e6:.2f} MB in {cpu:.2f} CPU s = {nbytes / 1e6 / cpu:.1f} MB/s per core",
          file=sys.stderr)


def sha256(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


if __name__ == "__main__":
    main()
