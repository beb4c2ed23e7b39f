#!/usr/bin/env python3
"""HF transformers + torch on the same checkpoint and prompts as `nexttoken bench`, printing the
same JSON keys. Eager attention, `logits_to_keep=1`, batch 1, torch.set_num_threads(THREADS).

    python bench/hf_bench.py --model DIR|FILE.gguf [--threads 2] [--runs 5] [--prompt-tokens 32]
                             [--decode-tokens 64] [--prefill-tokens 256] [--no-recorded]
"""
import argparse
import json
import os
import resource
import statistics
import time

import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from pathlib import Path  # noqa: E402

from transformers import AutoModelForCausalLM  # noqa: E402


def prompt(n, vocab):
    """Token ids spread over the vocabulary: the formula of crates/nexttoken/src/bench.rs."""
    return [(1000 + 7919 * i) % vocab for i in range(n)]


@torch.inference_mode()
def prefill(model, ids, recorded):
    start = time.perf_counter()
    out = model(torch.tensor([ids]), use_cache=True, logits_to_keep=1,
                output_attentions=recorded, output_hidden_states=recorded)
    if recorded:
        [h[0].norm(dim=-1) for h in out.hidden_states]
        torch.topk(torch.softmax(out.logits[0, -1], -1), 30)
    return time.perf_counter() - start


@torch.inference_mode()
def decode(model, ids, steps, recorded):
    out = model(torch.tensor([ids]), use_cache=True, logits_to_keep=1)
    past, logits = out.past_key_values, out.logits[0, -1]
    start = time.perf_counter()
    for _ in range(steps):
        if recorded:
            torch.topk(torch.softmax(logits, -1), 30)
        nxt = int(torch.argmax(logits))
        out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True, logits_to_keep=1,
                    output_attentions=recorded, output_hidden_states=recorded)
        past, logits = out.past_key_values, out.logits[0, -1]
        if recorded:
            [h[0].norm(dim=-1) for h in out.hidden_states]
    return time.perf_counter() - start


def timed(runs, f):
    f()  # warm-up
    return statistics.median(f() for _ in range(runs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--prefill-tokens", type=int, default=256)
    ap.add_argument("--no-recorded", action="store_true", help="skip the recorded variants")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    start = time.perf_counter()
    path = Path(a.model)
    # A GGUF file (SmolLM2's) is dequantised to f32 by transformers, as nexttoken does.
    where = dict(pretrained_model_name_or_path=path.parent, gguf_file=path.name) if path.suffix == ".gguf" \
        else dict(pretrained_model_name_or_path=path)
    model = AutoModelForCausalLM.from_pretrained(**where, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    load_ms = (time.perf_counter() - start) * 1e3
    vocab = model.config.vocab_size
    pre_ids, dec_ids, steps = prompt(a.prefill_tokens, vocab), prompt(a.prompt_tokens, vocab), a.decode_tokens
    report = {
        "engine": "hf-transformers", "dtype": "f32", "threads": a.threads,
        "prompt_tokens": a.prompt_tokens, "decode_tokens": steps,
        "prefill_tokens": a.prefill_tokens, "runs": a.runs, "load_ms": load_ms,
        "weights_mb": sum(p.numel() * p.element_size() for p in model.parameters()) / 1e6,
        "prefill_ms": timed(a.runs, lambda: prefill(model, pre_ids, False)) * 1e3,
        "decode_tok_s": steps / timed(a.runs, lambda: decode(model, dec_ids, steps, False)),
    }
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    if not a.no_recorded:
        report["prefill_recorded_ms"] = timed(a.runs, lambda: prefill(model, pre_ids, True)) * 1e3
        report["decode_recorded_tok_s"] = steps / timed(a.runs, lambda: decode(model, dec_ids, steps, True))
        report["peak_rss_recorded_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps(report))


if __name__ == "__main__":
    main()
