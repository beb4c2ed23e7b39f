"""Resident memory of `nexttoken serve` under a long mix of requests (docs/hardening.md).

    python3 bench/soak.py MODEL_DIR [--requests 2000] [--clients 4] [--cache-mb 256]
                          [--seed 1] [--bin target/release/nexttoken] [--serve-arg=--flag ...]

Starts the server on a free loopback port and sends --requests requests from --clients threads,
each drawn at random: /api/distribution on 1..n_positions random tokens, /api/step on a new short
sequence or continuing one, /api/trace, /api/attention (one head), /api/attention/overview,
/api/lens and /api/compare. Every --every requests it prints the server's VmRSS; at the end, one
JSON line with the samples, the answers by status and the largest RSS of the last quarter against
the budget plus the weights. Standard library only.
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

WORDS = ("the of and to in a that is for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there been one all we their has would when if "
         "so no will more out up into do any your what some can who them only about time").split()


def call(base, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args):
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    command = [args.bin, "serve", "--model", args.model, "--port", str(port), *args.serve_arg]
    if args.cache_mb is not None:
        command += ["--cache-mb", str(args.cache_mb)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            with urllib.request.urlopen(base + "/api/model", timeout=5) as reply:
                return server, base, json.loads(reply.read())
        except OSError:
            if server.poll() is not None:
                sys.exit(f"the server exited with {server.returncode}")
            time.sleep(0.1)
    server.kill()
    sys.exit("the server did not answer within 120 s")


class Mix:
    """Draws the next request; shares the sequences being stepped between the clients."""

    def __init__(self, rng, info):
        self.rng, self.lock = rng, threading.Lock()
        self.vocab, self.positions = info["vocab_size"], info["n_positions"]
        self.layers, self.heads = info["n_layer"], info["n_head"]
        self.stepping = []

    def tokens(self, longest):
        n = self.rng.choice([1, 5, 40, self.rng.randint(1, longest)])
        return [self.rng.randrange(self.vocab) for _ in range(min(n, longest))]

    def next(self):
        with self.lock:
            kind = self.rng.choice(["distribution", "step", "step", "trace", "attention",
                                    "overview", "lens", "compare"])
            longest = self.positions - 1
            if kind == "distribution":
                return kind, "/api/distribution", {"tokens": self.tokens(self.positions)}
            if kind == "step":
                if self.stepping and self.rng.random() < 0.6:
                    seq = self.stepping.pop(self.rng.randrange(len(self.stepping)))
                else:
                    seq = self.tokens(longest)
                return kind, "/api/step", {"tokens": seq}
            if kind == "trace":
                prompt = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 300)))
                return kind, "/api/trace", {"prompt": prompt, "steps": self.rng.randint(1, 8)}
            if kind == "attention":
                return kind, "/api/attention", {"tokens": self.tokens(self.positions),
                                                "layer": self.rng.randrange(self.layers),
                                                "head": self.rng.randrange(self.heads)}
            if kind == "overview":
                return kind, "/api/attention/overview", {"tokens": self.tokens(self.positions),
                                                         "layer": self.rng.randrange(self.layers)}
            if kind == "lens":
                return kind, "/api/lens", {"tokens": self.tokens(self.positions)}
            return kind, "/api/compare", {"before": self.tokens(self.positions),
                                          "after": self.tokens(self.positions)}

    def stepped(self, answer):
        tokens = answer.get("tokens") if answer else None
        if tokens and len(tokens) < self.positions - 1:
            with self.lock:
                self.stepping.append(tokens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--cache-mb", type=int, help="the server's cache budget (its default if absent)")
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default="target/release/nexttoken")
    ap.add_argument("--serve-arg", action="append", default=[])
    args = ap.parse_args()

    server, base, info = start(args)
    weights_mb = os.path.getsize(os.path.join(args.model, "model.safetensors")) / 2**20
    budget_mb = info["limits"].get("cache_bytes", 0) / 2**20
    mix = Mix(random.Random(args.seed), info)
    counter, lock = iter(range(args.requests)), threading.Lock()
    statuses, samples = {}, [(0, rss_mb(server.pid))]
    print(f"started: RSS {samples[0][1]:.0f} MB, weights {weights_mb:.0f} MB, "
          f"cache budget {budget_mb:.0f} MB", flush=True)

    def client():
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            kind, path, body = mix.next()
            status, answer = call(base, path, body)
            if kind == "step" and status == 200:
                mix.stepped(answer)
            with lock:
                key = f"{kind} {status}"
                statuses[key] = statuses.get(key, 0) + 1
                if (n + 1) % args.every == 0:
                    samples.append((n + 1, rss_mb(server.pid)))
                    print(f"{n + 1:6d} requests: RSS {samples[-1][1]:.0f} MB", flush=True)

    started = time.time()
    try:
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.kill()
        server.wait()
    tail = [mb for n, mb in samples if n >= 0.75 * args.requests]
    bound = budget_mb + weights_mb
    print(json.dumps({
        "requests": args.requests, "clients": args.clients, "seconds": round(time.time() - started),
        "cache_mb": round(budget_mb), "weights_mb": round(weights_mb), "statuses": statuses,
        "rss_mb": [[n, round(mb)] for n, mb in samples],
        "last_quarter_max_rss_mb": round(max(tail)),
        "of_budget_plus_weights": round(max(tail) / bound, 3),
    }))


if __name__ == "__main__":
    main()
