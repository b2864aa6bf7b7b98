#!/usr/bin/env python3
"""The tiny BERT masked-LM trained in PyTorch, to tell an optimisation plateau
from a trainer bug (BENCHMARKS.md, Trainer).

Same model (trainer/parity/torch_bert.py: 2 layers, hidden 128, 2 heads,
ff 512), BERT init N(0, 0.02), AdamW (eps 1e-6, decay 0.01 off biases and
LayerNorm), warmup 100 then linear decay to 0 at update 1000, clip 1.0,
15 % masking 80/10/10, on the WikiText-2 token stream cut into SEQ-token
chunks (shuffled; the first 32768 tokens' worth held out). Every 100 updates
it prints the held-out loss with 80/10/10 masking and with every chosen
token masked.

  corpusflow tokenize --vocab trainer/experiments/wikitext-8k-vocab.txt --input wikitext.txt > ids.txt
  python3 torch_mlm_plateau.py ids.txt STEPS LR SEQ BATCH
"""
import os
import random
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
import torch_bert as tb  # noqa: E402

V, CLS, SEP, MASK, FIRST_WORD = 8000, 2, 3, 4, 5
TOTAL, WARMUP = 1000, 100


def main():
    ids_file, steps, lr, S, B = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.manual_seed(1)
    torch.set_num_threads(1)
    cfg = dict(vocab_size=V, hidden_size=128, max_position_embeddings=512, type_vocab_size=2,
               intermediate_size=512, num_hidden_layers=2, num_attention_heads=2, pad_token_id=0)
    m = tb.Bert(cfg, False)
    names = m.hf_names()
    with torch.no_grad():
        for n, p in names.items():
            if "LayerNorm.weight" in n:
                p.fill_(1)
            elif n.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0, 0.02)
        m.word.weight[0].zero_()
    toks = [int(t) for line in open(ids_file) for t in line.split()]
    chunks = [[CLS] + toks[a:a + S - 2] + [SEP] for a in range(0, len(toks) - S, S - 2)]
    random.Random(1).shuffle(chunks)
    n_held = 256 * 128 // S
    held, train = chunks[:n_held], chunks[n_held:]

    def mask(seqs, g, mask_only=False):
        ids = torch.tensor(seqs)
        sel = torch.rand(ids.shape, generator=g) < 0.15
        sel[:, 0] = False
        sel[:, -1] = False
        inp = ids.clone()
        r = torch.rand(ids.shape, generator=g)
        if mask_only:
            inp[sel] = MASK
        else:
            inp[sel & (r < 0.8)] = MASK
            rnd = sel & (r >= 0.8) & (r < 0.9)
            inp[rnd] = torch.randint(FIRST_WORD, V, ids.shape, generator=g)[rnd]
        pos = torch.nonzero(sel.view(-1)).view(-1)
        return inp, torch.zeros_like(ids), torch.ones_like(ids, dtype=torch.bool), pos, ids.view(-1)[pos]

    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
    opt = torch.optim.AdamW([{"params": [p for n, p in names.items() if not no_decay(n)], "weight_decay": 0.01},
                             {"params": [p for n, p in names.items() if no_decay(n)], "weight_decay": 0.0}], lr=lr, eps=1e-6)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / WARMUP if s < WARMUP else max(0.0, (TOTAL - s) / (TOTAL - WARMUP)))
    g = torch.Generator().manual_seed(5)

    def evaluate():
        out = []
        with torch.no_grad():
            for mask_only in (False, True):
                ge = torch.Generator().manual_seed(9)
                tot = n = 0
                for a in range(0, len(held), 64):
                    *inputs, lab = mask(held[a:a + 64], ge, mask_only)
                    loss, _, _ = m(*inputs, lab)
                    tot += loss.item() * len(lab)
                    n += len(lab)
                out.append(tot / n)
        return out

    order, at = list(range(len(train))), len(train)
    for step in range(1, steps + 1):
        if at + B > len(order):
            random.Random(step).shuffle(order)
            at = 0
        loss, _, _ = m(*mask([train[i] for i in order[at:at + B]], g))
        at += B
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0:
            e = evaluate()
            print(f"seq {S} batch {B} lr {lr:g} step {step} train {loss.item():.3f} "
                  f"held-out 80/10/10 {e[0]:.3f} [MASK]-only {e[1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
