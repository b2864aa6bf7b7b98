#!/usr/bin/env python3
"""The corpusflow trainer's BERT, built independently in PyTorch.

  torch_bert.py parity DIR   compare loss and every gradient with the Go
                             trainer on the case the Go test wrote to DIR
  torch_bert.py bench ...    time forward + backward + AdamW on CPU, the same
                             work as `go test ./trainer -bench TrainStep`

The model follows transformers' BertForMaskedLM / BertForPreTraining (exact
GELU, LayerNorm eps 1e-12, additive finfo.min attention mask, decoder tied to
the word embeddings, padding_idx on the word embeddings) and names its
parameters like Hugging Face, so the Go checkpoint loads by name. Only
PyTorch and numpy are needed (Debian: python3-torch).
"""
import argparse
import json
import math
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        arr = np.frombuffer(data[lo:hi], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


class Bert(torch.nn.Module):
    def __init__(self, cfg, nsp):
        super().__init__()
        V, H, P = cfg["vocab_size"], cfg["hidden_size"], cfg["max_position_embeddings"]
        T, FF, L = cfg["type_vocab_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.pad = cfg.get("pad_token_id", 0)
        self.word = torch.nn.Embedding(V, H, padding_idx=self.pad)
        self.pos = torch.nn.Embedding(P, H)
        self.typ = torch.nn.Embedding(T, H)
        self.eln = torch.nn.LayerNorm(H, eps=1e-12)
        lin = torch.nn.Linear
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.q, m.k, m.v, m.o = lin(H, H), lin(H, H), lin(H, H), lin(H, H)
            m.ln1 = torch.nn.LayerNorm(H, eps=1e-12)
            m.inter, m.out = lin(H, FF), lin(FF, H)
            m.ln2 = torch.nn.LayerNorm(H, eps=1e-12)
            self.layers.append(m)
        self.head = lin(H, H)
        self.head_ln = torch.nn.LayerNorm(H, eps=1e-12)
        self.dec_bias = torch.nn.Parameter(torch.zeros(V))
        self.nsp = nsp
        if nsp:
            self.pool = lin(H, H)
            self.seq_rel = lin(H, 2)

    def hf_names(self):
        """Hugging Face state-dict name -> parameter."""
        n = {
            "bert.embeddings.word_embeddings.weight": self.word.weight,
            "bert.embeddings.position_embeddings.weight": self.pos.weight,
            "bert.embeddings.token_type_embeddings.weight": self.typ.weight,
            "bert.embeddings.LayerNorm.weight": self.eln.weight,
            "bert.embeddings.LayerNorm.bias": self.eln.bias,
            "cls.predictions.transform.dense.weight": self.head.weight,
            "cls.predictions.transform.dense.bias": self.head.bias,
            "cls.predictions.transform.LayerNorm.weight": self.head_ln.weight,
            "cls.predictions.transform.LayerNorm.bias": self.head_ln.bias,
            "cls.predictions.bias": self.dec_bias,
        }
        for i, m in enumerate(self.layers):
            p = f"bert.encoder.layer.{i}."
            for part, mod in (("attention.self.query", m.q), ("attention.self.key", m.k), ("attention.self.value", m.v),
                              ("attention.output.dense", m.o), ("attention.output.LayerNorm", m.ln1),
                              ("intermediate.dense", m.inter), ("output.dense", m.out), ("output.LayerNorm", m.ln2)):
                n[p + part + ".weight"] = mod.weight
                n[p + part + ".bias"] = mod.bias
        if self.nsp:
            n.update({"bert.pooler.dense.weight": self.pool.weight, "bert.pooler.dense.bias": self.pool.bias,
                      "cls.seq_relationship.weight": self.seq_rel.weight, "cls.seq_relationship.bias": self.seq_rel.bias})
        return n

    def forward(self, ids, types, valid, masked_pos, labels, nsp_labels=None):
        B, S = ids.shape
        H = self.word.weight.shape[1]
        A, dh = self.heads, H // self.heads
        x = self.word(ids) + self.pos(torch.arange(S)) + self.typ(types)
        x = self.eln(x)
        ext = (1.0 - valid.to(x.dtype))[:, None, None, :] * torch.finfo(x.dtype).min
        for m in self.layers:
            q = m.q(x).view(B, S, A, dh).transpose(1, 2)
            k = m.k(x).view(B, S, A, dh).transpose(1, 2)
            v = m.v(x).view(B, S, A, dh).transpose(1, 2)
            p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + ext, dim=-1)
            ctx = (p @ v).transpose(1, 2).reshape(B, S, H)
            a = m.ln1(x + m.o(ctx))
            x = m.ln2(a + m.out(F.gelu(m.inter(a))))
        # Like the Go trainer, score only the masked positions; the loss is
        # the same as BertForMaskedLM's over all positions with -100 labels.
        g = x.reshape(B * S, H)[masked_pos]
        t = self.head_ln(F.gelu(self.head(g)))
        logits = t @ self.word.weight.t() + self.dec_bias
        mlm = F.cross_entropy(logits, labels)
        correct = (logits.argmax(-1) == labels).sum().item()
        nsp = torch.zeros((), dtype=x.dtype)
        if self.nsp and nsp_labels is not None:
            pooled = torch.tanh(self.pool(x[:, 0]))
            nsp = F.cross_entropy(self.seq_rel(pooled), nsp_labels)
        return mlm, nsp, correct


def load_case(d):
    cfg = json.load(open(f"{d}/config.json"))
    batch = json.load(open(f"{d}/batch.json"))
    nsp = bool(cfg.get("corpusflow_nsp"))
    model = Bert(cfg, nsp)
    weights = read_safetensors(f"{d}/model.safetensors")
    names = model.hf_names()
    missing = set(names) - set(weights)
    extra = set(weights) - set(names)
    if missing or extra:
        sys.exit(f"parity: checkpoint names differ: missing {sorted(missing)}, unexpected {sorted(extra)}")
    with torch.no_grad():
        for k, p in names.items():
            if tuple(weights[k].shape) != tuple(p.shape):
                sys.exit(f"parity: {k} has shape {tuple(weights[k].shape)}, model wants {tuple(p.shape)}")
            p.copy_(weights[k])
    B, S = batch["b"], batch["s"]
    t = lambda key: torch.tensor(batch[key], dtype=torch.long)
    inputs = dict(ids=t("input_ids").view(B, S), types=t("token_types").view(B, S),
                  valid=torch.tensor(batch["valid"]).view(B, S), masked_pos=t("masked_pos"),
                  labels=t("masked_labels"), nsp_labels=t("nsp_labels") if batch.get("nsp_labels") else None)
    return model, inputs


def parity(d):
    result = json.load(open(f"{d}/result.json"))
    worst_all = {}
    ok = True
    for dtype, suffix, tol in ((torch.float64, "64", 1e-9), (torch.float32, "32", 1e-4)):
        model, inputs = load_case(d)
        model = model.to(dtype)
        mlm, nsp, _ = model(**inputs)
        loss = mlm + nsp
        loss.backward()
        go_loss = result["loss" + suffix]
        loss_rel = abs(loss.item() - go_loss) / abs(loss.item())
        grads = read_safetensors(f"{d}/grads{suffix}.safetensors")
        named = model.hf_names()
        # A tensor whose true gradient is zero (the key biases: softmax does
        # not change when every score of a row moves by q·b) holds only
        # rounding noise, so errors are taken relative to the larger of the
        # tensor's own gradient norm and 1e-3 of the whole model's.
        total = math.sqrt(sum(p.grad.norm().item() ** 2 for p in named.values()))
        errs = []
        for k, p in named.items():
            diff = (grads[k].to(dtype) - p.grad).norm().item()
            errs.append((diff / max(p.grad.norm().item(), 1e-3 * total), k))
        errs.sort(reverse=True)
        worst, worst_name = errs[0]
        passed = loss_rel <= tol and worst <= tol
        ok = ok and passed
        worst_all["float" + suffix] = dict(loss_torch=loss.item(), loss_go=go_loss, loss_rel_err=loss_rel,
                                           worst_grad_rel_err=worst, worst_param=worst_name,
                                           next_worst=[f"{n}: {e:.2e}" for e, n in errs[1:4]],
                                           params_compared=len(grads), tolerance=tol, passed=passed)
    print(json.dumps(worst_all, indent=2))
    sys.exit(0 if ok else 1)


def bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfgs = {"tiny": dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512),
            "mini": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)}
    cfg = dict(vocab_size=30522, max_position_embeddings=512, type_vocab_size=2, pad_token_id=0, **cfgs[args.config])
    model = Bert(cfg, nsp=False)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, eps=1e-6, weight_decay=0.01)
    B, S = args.batch, args.seq
    ids = torch.randint(1000, 30000, (B, S))
    types = torch.zeros(B, S, dtype=torch.long)
    valid = torch.ones(B, S, dtype=torch.bool)
    flat = torch.arange(B * S)
    masked_pos = flat[(flat % 20) < 3]  # 15 %, as the Go benchmark
    labels = ids.view(-1)[masked_pos]

    def step():
        opt.zero_grad(set_to_none=False)
        mlm, _, _ = model(ids, types, valid, masked_pos, labels)
        mlm.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    secs = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / args.steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(framework=f"pytorch {torch.__version__}", config=args.config, threads=torch.get_num_threads(),
                          steps=args.steps, s_per_step=round(secs / args.steps, 3), tokens_per_s=round(B * S * args.steps / secs),
                          cpu_s_per_step=round(cpu, 3), tokens_per_cpu_s=round(B * S / cpu),
                          peak_rss_mib=round(peak, 1))))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parity")
    p.add_argument("dir")
    b = sub.add_parser("bench")
    b.add_argument("--config", choices=["tiny", "mini"], default="tiny")
    b.add_argument("--steps", type=int, default=5)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--seq", type=int, default=128)
    b.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.cmd == "parity":
        parity(a.dir)
    else:
        bench(a)


if __name__ == "__main__":
    main()
