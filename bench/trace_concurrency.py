"""Throughput of concurrent /api/trace requests against a single one, over HTTP.

    python3 bench/trace_concurrency.py MODEL_DIR [--clients 8] [--prompt-tokens 20] [--steps 20]
                                [--rounds 5] [--bin target/release/nexttoken]

Starts `nexttoken serve` on a free loopback port, builds a prompt of exactly --prompt-tokens
tokens with /api/tokenize, then alternates, --rounds times: one request alone, and --clients
requests released together. Throughput is generated tokens per second of wall time (prefill,
HTTP and JSON included). Prints medians and one JSON line. Standard library only.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

TEXT = ("Fellow citizens of the Senate and of the House of Representatives: among the "
        "vicissitudes incident to life no event could have filled me with greater anxieties "
        "than that of which the notification was transmitted by your order")


def call(base, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.loads(reply.read())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args):
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    server = subprocess.Popen(
        [args.bin, "serve", "--model", args.model, "--host", "127.0.0.1", "--port", str(port),
         "--max-concurrent", str(max(args.clients, 1))],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            call(base, "/api/health")
            return server, base
        except OSError:
            if server.poll() is not None:
                sys.exit(f"the server exited with {server.returncode}")
            time.sleep(0.1)
    server.kill()
    sys.exit("the server did not answer within 60 s")


def prompt_of(base, n):
    tokens = call(base, "/api/tokenize", {"text": TEXT})["tokens"]
    if len(tokens) < n:
        sys.exit(f"the sample text has only {len(tokens)} tokens")
    prompt = "".join(t["text"] for t in tokens[:n])
    got = call(base, "/api/tokenize", {"text": prompt})["count"]
    if got != n:
        sys.exit(f"the prompt re-tokenizes to {got} tokens, not {n}")
    return prompt


def together(base, body, clients):
    """Seconds for `clients` identical-shaped requests released at once."""
    gate = threading.Barrier(clients + 1)
    errors = []

    def client(i):
        gate.wait()
        try:
            call(base, "/api/trace", dict(body, seed=i))
        except Exception as e:  # reported below: a failed request spoils the measurement
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"{len(errors)} requests failed: {errors[0]}")
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=20)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--bin", default=f"{target}/release/nexttoken")
    args = parser.parse_args()
    server, base = start(args)
    try:
        body = {"prompt": prompt_of(base, args.prompt_tokens), "steps": args.steps,
                "sampling": {"greedy": False, "temperature": 1.0}}
        together(base, body, args.clients)  # warm-up: page faults, threads, allocations
        single, many = [], []
        steps = batches = 0  # forward passes and batches of the concurrent runs
        for _ in range(args.rounds):
            single.append(args.steps / together(base, body, 1))
            before = call(base, "/api/health")["batches"]
            many.append(args.clients * args.steps / together(base, body, args.clients))
            after = call(base, "/api/health")["batches"]
            steps += after["steps"] - before["steps"]
            batches += after["batches"] - before["batches"]
    finally:
        server.terminate()
        server.wait()
    result = {
        "clients": args.clients,
        "prompt_tokens": args.prompt_tokens,
        "steps": args.steps,
        "rounds": args.rounds,
        "single_tok_s": statistics.median(single),
        "concurrent_tok_s": statistics.median(many),
        # Forward passes (prefills and decode steps) per batch while the clients ran together.
        "mean_batch": steps / batches if batches else None,
    }
    result["ratio"] = result["concurrent_tok_s"] / result["single_tok_s"]
    print(f"one request: {result['single_tok_s']:.1f} tok/s; {args.clients} at once: "
          f"{result['concurrent_tok_s']:.1f} tok/s in total ({result['ratio']:.2f}x); "
          f"{result['mean_batch']:.2f} passes per batch", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
