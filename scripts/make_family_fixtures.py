#!/usr/bin/env python3
"""The GPT-2 family at every size, shrunk only in width: for distilgpt2, gpt2-medium, gpt2-large
and gpt2-xl, the hub's own config.json with its real layer and head counts, vocabulary and
context, but 2 channels per head (so gpt2-xl is 48 layers x 25 heads x d=50). Seeded random
weights, stored in F16 like many hub uploads (the goldens are computed on the same rounded values
in f32), and HF `transformers` goldens for every hook. Dev-time only: CI reads the files.

    /work/venv/bin/python scripts/make_family_fixtures.py   # fixtures/gpt2-family/<name>/

With `--full NAME DIR` it writes one member at its real width instead (gpt2-xl: 48 x 25 x 1600,
6.2 GB), F32 at HF's own initial scale, with goldens of every hook and all positions' logits:
the dev-time check `scripts/check_family_full.sh` runs the Rust engine against it.
"""
import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

from make_fixtures import PROMPT_IDS, GREEDY_STEPS, greedy, record

HEAD_DIM = 2
# The real widths (n_embd) of the hub's checkpoints.
FULL_WIDTH = {"distilgpt2": 768, "gpt2-medium": 1024, "gpt2-large": 1280, "gpt2-xl": 1600}
# The config.json of each hub repo (openai-community/gpt2-medium, ...; distilgpt2 lives at
# distilbert/distilgpt2), field for field; only n_embd is replaced.
COMMON = {
    "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
    "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_positions": 1024,
    "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    "vocab_size": 50257,
}
FAMILY = {
    "distilgpt2": {"n_layer": 6, "n_head": 12, "_num_labels": 1, "id2label": {"0": "LABEL_0"},
                   "label2id": {"LABEL_0": 0}},
    "gpt2-medium": {"n_layer": 24, "n_head": 16, "n_special": 0, "predict_special_tokens": True},
    "gpt2-large": {"n_layer": 36, "n_head": 20},
    "gpt2-xl": {"n_layer": 48, "n_head": 25, "output_past": True},
}
# Old hub uploads store keys without the `transformer.` prefix (`h.0.attn.c_attn.weight`);
# save_pretrained writes them with it. Both layouts are kept, one fixture each way and more.
UNPREFIXED = {"gpt2-medium", "gpt2-xl"}


def build(fields, seed, weight_std=0.2, half=True):
    torch.manual_seed(seed)
    config = GPT2Config(**{k: v for k, v in fields.items() if k != "architectures"},
                        attn_implementation="eager")
    model = GPT2LMHeadModel(config).eval()
    # Random gains and biases everywhere (see make_fixtures.py), then rounded to f16: the
    # stored values are exactly the ones HF computes with.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(weight_std * torch.randn_like(p))
            if half:
                p.copy_(p.half().float())
    return model


def write_full(name, out):
    """One member at its real width: F32 weights at HF's initializer_range (0.02), random gains
    and biases, all positions' logits in the goldens."""
    seed = list(FAMILY).index(name)
    fields = {**COMMON, **FAMILY[name], "n_embd": FULL_WIDTH[name]}
    model = build(fields, seed, weight_std=fields["initializer_range"], half=False)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n")
    weights = {"transformer." + k: v.contiguous() for k, v in model.transformer.state_dict().items()}
    save_file(weights, str(out / "model.safetensors"))
    save_file(record(model, PROMPT_IDS), str(out / "golden.safetensors"))
    meta = {
        "description": f"{name} at its real width, seeded random F32 weights, HF transformers goldens",
        "prompt_ids": PROMPT_IDS,
        "greedy_ids": greedy(model, PROMPT_IDS, GREEDY_STEPS),
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
    }
    (out / "golden.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(name, fields["n_layer"], "x", fields["n_head"], "x", fields["n_embd"], "->", out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", nargs=2, metavar=("NAME", "DIR"), help="one member at its real width, into DIR")
    args = ap.parse_args()
    if args.full:
        name, out = args.full
        if name not in FAMILY:
            ap.error(f"NAME is one of {', '.join(FAMILY)}")
        write_full(name, Path(out))
        return
    root = Path(__file__).resolve().parent.parent / "fixtures" / "gpt2-family"
    for seed, (name, shape) in enumerate(FAMILY.items()):
        fields = {**COMMON, **shape, "n_embd": shape["n_head"] * HEAD_DIM}
        model = build(fields, seed)
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n")
        prefix = "" if name in UNPREFIXED else "transformer."
        weights = {prefix + k: v.half().contiguous()
                   for k, v in model.transformer.state_dict().items()}
        save_file(weights, str(out / "model.safetensors"))
        golden = record(model, PROMPT_IDS)
        # The logits of the last position only: all eight would be 1.6 MB a model.
        golden["logits"] = golden["logits"][-1:].contiguous()
        save_file(golden, str(out / "golden.safetensors"))
        meta = {
            "description": f"{name}'s config with {HEAD_DIM} channels a head, seeded random F16 "
                           "weights, HF transformers goldens (logits: last position)",
            "prompt_ids": PROMPT_IDS,
            "greedy_ids": greedy(model, PROMPT_IDS, GREEDY_STEPS),
            "torch": torch.__version__,
            "transformers": __import__("transformers").__version__,
        }
        (out / "golden.json").write_text(json.dumps(meta, indent=1) + "\n")
        print(name, fields["n_layer"], "x", fields["n_head"], "x", fields["n_embd"])


if __name__ == "__main__":
    main()
