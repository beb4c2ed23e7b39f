#!/usr/bin/env python3
"""Builds a seeded random GPT-2 in Hugging Face layout and records HF `transformers` outputs
as golden values for the Rust engine's parity tests. Dev-time only: CI reads the files.

    python scripts/make_fixtures.py                       # fixtures/tiny-gpt2 (2 layers, d=32)
    python scripts/make_fixtures.py --full /tmp/gpt2-full # GPT-2 small shape (12 x 768)

No download: the model is made from a config and a seed (HF_HUB_OFFLINE=1 is set).
"""
import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

# "The United States of America is a country" in GPT-2's vocabulary.
PROMPT_IDS = [464, 1578, 1829, 286, 2253, 318, 257, 1499]
GREEDY_STEPS = 12


def build(n_layer, n_head, n_embd, n_positions, weight_std, seed):
    torch.manual_seed(seed)
    config = GPT2Config(
        n_layer=n_layer, n_head=n_head, n_embd=n_embd, n_positions=n_positions,
        vocab_size=50257, activation_function="gelu_new", attn_implementation="eager",
    )
    model = GPT2LMHeadModel(config).eval()
    # HF initialises layer norms to (1, 0) and biases to 0; random values everywhere make the
    # parity test catch a wrong gain, bias or transpose, and larger weights make attention
    # patterns far from uniform so masking and scaling errors show.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(weight_std * torch.randn_like(p))
    return model


def record(model, ids):
    """Every TransformerLens-named hook for one prompt, batch dimension dropped."""
    acts, hooks = {}, []
    for l, block in enumerate(model.transformer.h):
        def keep(name):
            return lambda _m, _i, out: acts.__setitem__(name, out[0] if isinstance(out, tuple) else out)
        hooks.append(block.attn.register_forward_hook(keep(f"blocks.{l}.hook_attn_out")))
        hooks.append(block.mlp.register_forward_hook(keep(f"blocks.{l}.hook_mlp_out")))
        hooks.append(block.register_forward_hook(keep(f"blocks.{l}.hook_resid_post")))
        # Every head's output before c_proj, heads side by side: (T, n_head * head_dim).
        hooks.append(block.attn.c_proj.register_forward_pre_hook(
            lambda _m, args, name=f"blocks.{l}.attn.hook_z": acts.__setitem__(name, args[0].clone())))
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        out = model(input_ids, output_hidden_states=True, output_attentions=True)
    for h in hooks:
        h.remove()
    t = model.transformer
    golden = {
        "hook_embed": t.wte(input_ids),
        "hook_pos_embed": t.wpe(torch.arange(len(ids))[None]),
        "ln_final.hook_normalized": out.hidden_states[-1],
        "logits": out.logits,
    }
    for l in range(model.config.n_layer):
        golden[f"blocks.{l}.hook_resid_pre"] = out.hidden_states[l]
        golden[f"blocks.{l}.attn.hook_pattern"] = out.attentions[l]
        golden[f"blocks.{l}.hook_resid_mid"] = out.hidden_states[l] + acts[f"blocks.{l}.hook_attn_out"]
    golden.update(acts)
    n_head = model.config.n_head
    for l in range(model.config.n_layer):
        z = golden[f"blocks.{l}.attn.hook_z"]
        golden[f"blocks.{l}.attn.hook_z"] = z.reshape(*z.shape[:-1], n_head, -1)  # (1, T, H, D)
    return {k: v[0].float().clone().contiguous() for k, v in golden.items()}


def greedy(model, ids, steps):
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=steps, do_sample=False,
                             pad_token_id=50256, attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    return out[0, len(ids):].tolist()


def logit_lens(model, ids, position, top=5):
    """Each layer's residual at `position` read through ln_f and the unembedding."""
    t = model.transformer
    resid = {}
    hook = t.h[-1].register_forward_hook(lambda _m, _i, out: resid.__setitem__("post", out[0] if isinstance(out, tuple) else out))
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_hidden_states=True)
        hook.remove()
        # hidden_states[L] is the residual entering block L; the last entry has ln_f applied
        # already, so the final row uses the last block's output instead.
        states = list(out.hidden_states[:-1]) + [resid["post"]]
        rows = []
        for h in states:
            probs = torch.softmax(model.lm_head(t.ln_f(h[0, position])), -1)
            p, i = probs.topk(top)
            rows.append({"top_ids": i.tolist(), "top_probs": p.tolist()})
    return {"position": position, "rows": rows}


def write(model, out_dir, description):
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    save_file(record(model, PROMPT_IDS), str(out_dir / "golden.safetensors"))
    meta = {
        "description": description,
        "prompt_ids": PROMPT_IDS,
        "greedy_ids": greedy(model, PROMPT_IDS, GREEDY_STEPS),
        "logit_lens": logit_lens(model, PROMPT_IDS, position=len(PROMPT_IDS) - 1),
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
    }
    (out_dir / "golden.json").write_text(json.dumps(meta, indent=1) + "\n")
    for extra in ("generation_config.json",):
        (out_dir / extra).unlink(missing_ok=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", type=Path, help="write a GPT-2-small-shaped model and goldens here")
    args = ap.parse_args()
    if args.full:
        model = build(12, 12, 768, 1024, weight_std=0.05, seed=1)
        write(model, args.full, "random GPT-2 small shape (12 x 12 x 768), seed 1, HF transformers goldens")
    else:
        root = Path(__file__).resolve().parent.parent
        model = build(2, 4, 32, 64, weight_std=0.2, seed=0)
        write(model, root / "fixtures" / "tiny-gpt2",
              "random GPT-2 (2 layers, 4 heads, d=32, 64 positions, full vocabulary), seed 0, HF transformers goldens")


if __name__ == "__main__":
    main()
