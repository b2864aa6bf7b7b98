#!/usr/bin/env python3
"""What the neighbours of a token are worth on WikiText-2 (BENCHMARKS.md,
Trainer): a count model predicts a token from its left and right neighbour,
P(w | l, r) ∝ P(w | l) · P(r | w), each a Jelinek-Mercer mix (lambda) of
bigram counts and add-0.5 unigram frequencies, trained on 95 % of the lines
(seeded) and scored on the other 5 %. The neighbours are always visible, so
it is a little easier than masked-LM, where 15 % of them are masked too.

  corpusflow tokenize --vocab trainer/experiments/wikitext-8k-vocab.txt --input wikitext.txt > ids.txt
  python3 bigram_reference.py ids.txt 8000

Needs numpy.
"""
import sys, random, numpy as np
ids_file, V = sys.argv[1], int(sys.argv[2])
lines = [list(map(int, l.split())) for l in open(ids_file)]
rng = random.Random(1); idx = list(range(len(lines))); rng.shuffle(idx)
nh = len(lines) // 20; held = [lines[i] for i in idx[:nh]]; train = [lines[i] for i in idx[nh:]]
B = V  # boundary symbol id = V
C = np.zeros((V + 1, V + 1), np.float32)
for l in train:
    s = [B] + l + [B]
    np.add.at(C, (np.array(s[:-1]), np.array(s[1:])), 1)
uni = C[:V, :].sum(1) + 0.5 ; uni = uni / uni.sum()
rowsum = C.sum(1, keepdims=True); rowsum[rowsum == 0] = 1
P = C / rowsum  # P[a,b] = c(a,b)/c(a,·)
uniB = np.append(uni, 1e-9)
pos = [([B] + l + [B], i) for l in held for i in range(1, len(l) + 1)]
L = np.array([s[i - 1] for s, i in pos]); W = np.array([s[i] for s, i in pos]); R = np.array([s[i + 1] for s, i in pos])
H = -(uni[W] * 0 + np.log(np.maximum(uni[W], 1e-12))).mean()
print(f"{ids_file}: {len(W)} held-out tokens, unigram cross-entropy {H:.3f}")
for lam in (0.5, 0.7, 0.9):
    tot = 0.0
    for a in range(0, len(W), 1024):
        l, w, r = L[a:a+1024], W[a:a+1024], R[a:a+1024]
        left = lam * P[l, :V] + (1 - lam) * uni[None, :]
        right = lam * P[:V, r].T + (1 - lam) * uniB[r][:, None]
        sc = left * right
        tot += -np.log(sc[np.arange(len(w)), w] / sc.sum(1)).sum()
    print(f"  lambda {lam}: left+right bigram cross-entropy {tot/len(W):.3f}")
