"""Writes datatrove_golden.json: MinHash signatures computed the way
datatrove's MinhashDedupSignature computes them (default MinhashConfig:
5-grams, 14x8 hashes, seed 1, HashConfig(precision=64, hash_fc="xxhash")),
re-stated here with numpy + xxhash so the Go test can check that a
corpusflow signature equals a datatrove one. The texts avoid the few
contractions NLTK's tokenizer would split ("cannot", "gonna").

Run: python3 datatrove_golden.py > datatrove_golden.json
"""
import json
import re
import unicodedata

import numpy as np
import xxhash

PUNCTUATION = "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»" + "".join(
    map(chr, (x for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b)))
)
P = np.uint64((1 << 61) - 1)


def simplify(text):
    text = text.lower()
    text = re.sub(r"\s+", " ", text.strip())
    text = text.translate(str.maketrans("", "", PUNCTUATION))
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = re.sub(r"\d+", "0", text)
    return text.strip()


def signature(text, seed, k, n=5):
    gen = np.random.RandomState(seed)
    a = gen.randint(1, P, dtype=np.uint64, size=(1, k))
    b = gen.randint(0, P, dtype=np.uint64, size=(1, k))
    words = simplify(text).split()
    shingles = np.array(
        [[xxhash.xxh64_intdigest(" ".join(words[i : i + n]))] for i in range(len(words) - n + 1)], dtype=np.uint64
    )
    phv = (shingles * a + b) % P
    return [int(v) for v in np.min(phv, axis=0)], a[0].tolist(), b[0].tolist()


TEXTS = [
    "The quick brown fox jumps over the lazy dog, while 3 cats watched from the old fence.",
    "Super Bowl 50 was an American football game to determine the champion of the National Football League (NFL) for the 2015 season. "
    "The American Football Conference (AFC) champion Denver Broncos defeated the National Football Conference (NFC) champion "
    "Carolina Panthers 24–10 to earn their third Super Bowl title.",
    "Café déjà vu: naïve résumé — “quoted” text, tabs\tand\nnewlines, 1,000,000 dollars and 42.5 percent; Ärger über Öl.",
]

out = []
for seed in (1, 7):
    for t in TEXTS:
        sig, a, b = signature(t, seed, 112)
        out.append({"seed": seed, "text": t, "signature": sig, "a0": a[0], "b0": b[0]})
print(json.dumps(out, ensure_ascii=False, indent=1))
