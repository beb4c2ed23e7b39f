#!/usr/bin/env python3
"""Activation patching the way TransformerLens-style code does it, with HF `transformers` forward
hooks: one full forward pass per patch. Records every sweep of the Compare & patch lab on the
committed tiny fixture model as golden values for the Rust engine (fixtures/tiny-gpt2/patch.json).
Dev-time only: CI reads the JSON. `bench/patch_bench.py` times these same functions as the naive
baseline.

    python scripts/make_patch_fixtures.py

Hooks, by TransformerLens name, and where they sit in HF's GPT-2:
    blocks.{L}.hook_resid_pre   the input of transformer.h[L]
    blocks.{L}.hook_attn_out    the output of transformer.h[L].attn
    blocks.{L}.hook_mlp_out     the output of transformer.h[L].mlp
    blocks.{L}.attn.hook_z      the input of transformer.h[L].attn.c_proj (heads side by side)
"""
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import GPT2LMHeadModel, GPT2Tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# The page's IOI example: the corrupted prompt swaps who gives the drink.
CLEAN = "When Mary and John went to the store, John gave a drink to"
CORRUPTED = "When Mary and John went to the store, Mary gave a drink to"
ANSWER, OTHER = " Mary", " John"
KINDS = ("resid", "attn", "mlp", "z")


def tokenizer():
    data = ROOT / "crates" / "model" / "data" / "gpt2"
    return GPT2Tokenizer(str(data / "vocab.json"), str(data / "merges.txt"))


def site(model, kind, layer):
    """The module whose input (resid, z) or output (attn, mlp) is the activation."""
    block = model.transformer.h[layer]
    return {"resid": block, "attn": block.attn, "mlp": block.mlp, "z": block.attn.c_proj}[kind]


def hook(model, kind, layer, edit):
    """Registers `edit(activation)` (batch 1: (1, T, width)) at the site; it may change it in place."""
    module = site(model, kind, layer)
    if kind in ("resid", "z"):
        return module.register_forward_pre_hook(lambda _m, args: edit(args[0]))
    return module.register_forward_hook(lambda _m, _i, out: edit(out[0] if isinstance(out, tuple) else out))


def run(model, ids, hooks=()):
    """Logits (T, V) of one forward pass with `hooks` = [(kind, layer, edit)] registered."""
    handles = [hook(model, kind, layer, edit) for kind, layer, edit in hooks]
    try:
        with torch.no_grad():
            return model(torch.tensor([ids])).logits[0]
    finally:
        for h in handles:
            h.remove()


def cache(model, ids):
    """Every patchable activation of one run: {(kind, layer): (T, width)}."""
    acts = {}
    hooks = [(kind, layer, lambda a, key=(kind, layer): acts.__setitem__(key, a[0].clone()))
             for kind in KINDS for layer in range(model.config.n_layer)]
    run(model, ids, hooks)
    return acts


def metric(logits, answer, other):
    """logit(answer) - logit(other) at the last position."""
    return (logits[-1, answer] - logits[-1, other]).item()


def patched(model, base_ids, source, kind, layer, positions, cols, answer, other):
    """The metric of `base_ids` run with (kind, layer) at `positions`, columns `cols`, taken from `source`."""
    def edit(a):
        a[0, positions, cols] = source[(kind, layer)][positions, cols]
    return metric(run(model, base_ids, [(kind, layer, edit)]), answer, other)


def sweeps(model, base_ids, source, answer, other):
    """Every sweep of one direction: a full forward pass per patch."""
    n_layer, n_head = model.config.n_layer, model.config.n_head
    t, d = len(base_ids), model.config.n_embd // n_head
    every = slice(None)
    one = lambda kind, layer, pos, cols=every: patched(model, base_ids, source, kind, layer, [pos], cols, answer, other)  # noqa: E731
    head = lambda h: slice(h * d, (h + 1) * d)  # noqa: E731
    return {
        **{kind: [[one(kind, layer, p) for p in range(t)] for layer in range(n_layer)]
           for kind in ("resid", "attn", "mlp")},
        "heads": [[patched(model, base_ids, source, "z", layer, list(range(t)), head(h), answer, other)
                   for h in range(n_head)] for layer in range(n_layer)],
        "head_pos": [[[one("z", layer, p, head(h)) for p in range(t)] for h in range(n_head)]
                     for layer in range(n_layer)],
    }


def lens(model, ids, answer, other):
    """The metric read from the residual entering each block, then leaving the last (ln_f, unembedding)."""
    t = model.transformer
    rows = []
    hooks = [("resid", layer, lambda a: rows.append(a[0, -1].clone())) for layer in range(model.config.n_layer)]
    last = t.h[-1].register_forward_hook(lambda _m, _i, out: rows.append((out[0] if isinstance(out, tuple) else out)[0, -1].clone()))
    try:
        run(model, ids, hooks)
    finally:
        last.remove()
    with torch.no_grad():
        return [(lambda lg: (lg[answer] - lg[other]).item())(model.lm_head(t.ln_f(r))) for r in rows]


def golden(model, tok, clean, corrupted, answer, other):
    clean_ids, corrupted_ids = tok.encode(clean), tok.encode(corrupted)
    ids = lambda s: tok.encode(s)  # noqa: E731
    (a,), (o,) = ids(answer), ids(other)
    caches = {"clean": cache(model, clean_ids), "corrupted": cache(model, corrupted_ids)}
    logits = {"clean": run(model, clean_ids), "corrupted": run(model, corrupted_ids)}
    p, q = (torch.log_softmax(logits[k][-1].double(), -1) for k in ("clean", "corrupted"))
    return {
        "clean": clean, "corrupted": corrupted, "clean_ids": clean_ids, "corrupted_ids": corrupted_ids,
        "answer": a, "other": o,
        "metric": {k: metric(v, a, o) for k, v in logits.items()},
        "kl_nats": (p.exp() * (p - q)).sum().item(),
        "lens": {"clean": lens(model, clean_ids, a, o), "corrupted": lens(model, corrupted_ids, a, o)},
        # Denoising restores clean activations into the corrupted run; noising the reverse.
        "denoise": sweeps(model, corrupted_ids, caches["clean"], a, o),
        "noise": sweeps(model, clean_ids, caches["corrupted"], a, o),
    }


def main():
    out_dir = ROOT / "fixtures" / "tiny-gpt2"
    model = GPT2LMHeadModel.from_pretrained(out_dir, attn_implementation="eager").eval()
    data = golden(model, tokenizer(), CLEAN, CORRUPTED, ANSWER, OTHER)
    data["description"] = "activation patching on tiny-gpt2 with HF forward hooks, one full pass per patch"
    data["torch"], data["transformers"] = torch.__version__, __import__("transformers").__version__
    (out_dir / "patch.json").write_text(json.dumps(data) + "\n")


if __name__ == "__main__":
    main()
