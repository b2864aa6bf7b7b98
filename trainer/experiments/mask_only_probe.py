#!/usr/bin/env python3
"""Does a masked-LM checkpoint use context? (BENCHMARKS.md, Trainer)

The trainer's held-out loss follows BERT's 80/10/10 rule: of the chosen
tokens, 10 % stay as they are, and a model that ignores context entirely can
learn to copy those, which alone puts its loss ~0.5 nats under the unigram
entropy. This probe masks every chosen token (15 %, five seeded draws) of the
run's held-out examples and compares the loss with what the corpus unigram
distribution scores on the same tokens.

  corpusflow inspect SHARDS --examples N > held.txt   # the first N rows = the held-out set
  corpusflow tokenize --vocab VOCAB --input TEXT > ids.txt   # unigram counts
  python3 mask_only_probe.py CHECKPOINT_DIR held.txt N ids.txt

Needs torch and numpy (trainer/parity/torch_bert.py loads the checkpoint).
Special tokens are assumed to be ids 0-4 ([PAD] [UNK] [CLS] [SEP] [MASK]),
as in wikitext-8k-vocab.txt.
"""
import collections
import json
import math
import os
import re
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
import torch_bert as tb  # noqa: E402

MASK_ID, LAST_SPECIAL = 4, 4


def main():
    ck, inspect_out, n_held, counts_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rows = [json.loads(m) for m in re.findall(r"input_ids  (\[[0-9,]*\])", open(inspect_out).read())][:n_held]
    if len(rows) != n_held:
        sys.exit(f"{inspect_out}: {len(rows)} examples with input_ids, want {n_held}")
    cfg = json.load(open(f"{ck}/config.json"))
    vocab = cfg["vocab_size"]
    model = tb.Bert(cfg, False)
    weights = tb.read_safetensors(f"{ck}/model.safetensors")
    with torch.no_grad():
        for k, p in model.hf_names().items():
            p.copy_(weights[k])
    counts = collections.Counter(int(t) for line in open(counts_file) for t in line.split())
    total = sum(counts.values())
    logp_unigram = torch.full((vocab,), -30.0)
    for t, n in counts.items():
        logp_unigram[t] = math.log(n / total)
    ids = torch.tensor(rows)
    special = ids <= LAST_SPECIAL
    loss_sum = unigram_sum = n = correct = 0
    with torch.no_grad():
        for draw in range(5):
            g = torch.Generator().manual_seed(100 + draw)
            chosen = (torch.rand(ids.shape, generator=g) < 0.15) & ~special
            inp = ids.clone()
            inp[chosen] = MASK_ID
            pos = torch.nonzero(chosen.view(-1)).view(-1)
            labels = ids.view(-1)[pos]
            loss, _, c = model(inp, torch.zeros_like(ids), ids != 0, pos, labels)
            loss_sum += loss.item() * len(labels)
            unigram_sum += -logp_unigram[labels].sum().item()
            n += len(labels)
            correct += c
    print(json.dumps({"checkpoint": ck, "masked_tokens": n, "mask_only_loss": round(loss_sum / n, 4),
                      "unigram_loss_same_tokens": round(unigram_sum / n, 4),
                      "mask_only_accuracy": round(correct / n, 4)}))


if __name__ == "__main__":
    main()
