#!/usr/bin/env python3
"""A residual-stream patching sweep (n_layer x T patched runs) two ways, in one run on one
machine: the naive way with HF transformers forward hooks (a full forward pass per patch, as
TransformerLens-style code does; scripts/make_patch_fixtures.py), and `nexttoken patch`, which
resumes each patched pass from the corrupted run's cache at the patched block and position and
batches each block's patches. Prints both times, their ratio, and how far the two grids differ.

    python bench/patch_bench.py --model /tmp/nexttoken-gpt2-full [--rounds 3]

Both sides use 2 threads (torch.set_num_threads, NEXTTOKEN_THREADS). Timed: the clean and
corrupted runs plus every patched run; not timed: loading the model. Rounds alternate the two
sides so both see the same load; medians are reported.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import torch  # noqa: E402
from make_patch_fixtures import cache, metric, patched, run, tokenizer  # noqa: E402
from transformers import GPT2LMHeadModel  # noqa: E402

# 15 tokens each; they differ at position 9 (who gives the drink).
CLEAN = "When Mary and John went to the shop, John gave a cold drink to"
CORRUPTED = "When Mary and John went to the shop, Mary gave a cold drink to"
ANSWER, OTHER = " Mary", " John"


def hf_sweep(model, clean_ids, corrupted_ids, a, o):
    """Denoising resid_pre sweep: the clean run's cache, then one full pass per (layer, position)."""
    source = cache(model, clean_ids)
    base = metric(run(model, corrupted_ids), a, o)
    every = slice(None)
    grid = [[patched(model, corrupted_ids, source, "resid", layer, [p], every, a, o)
             for p in range(len(corrupted_ids))] for layer in range(model.config.n_layer)]
    return base, grid


def nexttoken_sweep(binary, model_dir):
    env = {**os.environ, "NEXTTOKEN_THREADS": "2"}
    cmd = [binary, "patch", "--model", str(model_dir), "--clean", CLEAN, "--corrupted", CORRUPTED,
           "--answer", ANSWER, "--other", OTHER, "--sweep", "resid", "--json"]
    wall = time.perf_counter()
    out = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout)
    wall = time.perf_counter() - wall
    seconds = (out["pair_ms"] + out["sweep"]["elapsed_ms"]) / 1e3
    return seconds, wall, [row["metric"] for row in out["sweep"]["rows"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True, help="a GPT-2 checkpoint in HF layout")
    ap.add_argument("--nexttoken", default=str(ROOT / "target" / "release" / "nexttoken"))
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    tok = tokenizer()
    clean_ids, corrupted_ids = tok.encode(CLEAN), tok.encode(CORRUPTED)
    (a,), (o,) = tok.encode(ANSWER), tok.encode(OTHER)
    assert len(clean_ids) == len(corrupted_ids) == 15, "a 15-token pair"
    model = GPT2LMHeadModel.from_pretrained(args.model, attn_implementation="eager").eval()
    run(model, clean_ids)  # warm-up
    hf, ours, walls = [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        _, hf_grid = hf_sweep(model, clean_ids, corrupted_ids, a, o)
        hf.append(time.perf_counter() - start)
        seconds, wall, grid = nexttoken_sweep(args.nexttoken, args.model)
        ours.append(seconds)
        walls.append(wall)
    diff = max(abs(x - y) for hr, nr in zip(hf_grid, grid) for x, y in zip(hr, nr))
    c = model.config
    result = {
        "model": f"{c.n_layer} x {c.n_head} x {c.n_embd}", "tokens": len(clean_ids),
        "patched_runs": c.n_layer * len(clean_ids),
        "hf_naive_s": statistics.median(hf), "nexttoken_s": statistics.median(ours),
        "nexttoken_wall_s_with_load": statistics.median(walls),
        "speedup": statistics.median(hf) / statistics.median(ours),
        "max_abs_metric_diff": diff, "rounds": args.rounds,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
