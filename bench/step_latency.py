"""Latency of the page's Step over HTTP: `/api/step` receives the whole sequence each time,
and the server continues from the state the previous step left.

    python3 bench/step_latency.py MODEL_DIR [--tokens 300] [--steps 6] [--bin target/release/nexttoken]

Starts `nexttoken serve` on a free loopback port (as bench/trace_concurrency.py does), sends a
sequence of --tokens ids (the same formula as `nexttoken bench`), then steps --steps times,
each request with every token so far. The first step runs the whole sequence; the others only
the token the previous step chose. Prints each step's round trip in ms and one JSON line.
Standard library only.
"""

import argparse
import json
import os
import sys
import time
from types import SimpleNamespace

from trace_concurrency import call, start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--steps", type=int, default=6)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    parser.add_argument("--bin", default=f"{target}/release/nexttoken")
    args = parser.parse_args()
    server, base = start(SimpleNamespace(bin=args.bin, model=args.model, clients=1))
    try:
        vocab = call(base, "/api/model")["vocab_size"]
        tokens = [(1000 + 7919 * i) % vocab for i in range(args.tokens)]
        times = []
        for draw in range(args.steps):
            body = {"tokens": tokens, "draw": draw, "sampling": {"greedy": True}}
            started = time.perf_counter()
            tokens = call(base, "/api/step", body)["tokens"]
            times.append((time.perf_counter() - started) * 1e3)
    finally:
        server.terminate()
        server.wait()
    print(f"steps of a {args.tokens}-token sequence, ms: first (from scratch) {times[0]:.0f}, "
          f"then {', '.join(f'{t:.0f}' for t in times[1:])}", file=sys.stderr)
    print(json.dumps({"tokens": args.tokens, "step_ms": times}))


if __name__ == "__main__":
    main()
