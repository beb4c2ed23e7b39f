"""How long the model slots of abandoned traces stay busy (docs/hardening.md).

    python3 bench/disconnect.py MODEL_DIR [--clients 10] [--prompt-tokens 950] [--after 0.5]
                                [--bin target/release/nexttoken]

Starts `nexttoken serve` with one model slot per client, sends --clients /api/trace requests
with prompts of --prompt-tokens tokens, closes every connection --after seconds later, and polls
/api/health until no model job runs. Prints the seconds from the close to a free pool and to
each slot's release. Standard library only.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

WORDS = "the people of the United States in order to form a more perfect union".split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(base):
    with urllib.request.urlopen(base + "/api/health", timeout=30) as reply:
        return json.loads(reply.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--prompt-tokens", type=int, default=950)
    ap.add_argument("--after", type=float, default=0.5)
    ap.add_argument("--bin", default="target/release/nexttoken")
    args = ap.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [args.bin, "serve", "--model", args.model, "--port", str(port),
         "--max-concurrent", str(args.clients), "--max-steps", "1"],
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                health(base)
                break
            except OSError:
                time.sleep(0.1)
        # One word, one token, for these common words after the first.
        prompt = " ".join(WORDS[i % len(WORDS)] for i in range(args.prompt_tokens))
        body = json.dumps({"prompt": prompt, "steps": 1}).encode()
        request = (f"POST /api/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                   f"application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        sockets = []
        for _ in range(args.clients):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request)
            sockets.append(s)
        time.sleep(args.after)
        running = health(base)["pool"]["running"]
        for s in sockets:
            s.close()
        closed = time.time()
        releases, last = [], running
        while last > 0:
            now = health(base)["pool"]["running"]
            releases += [round(time.time() - closed, 2)] * (last - now)
            last = now
            time.sleep(0.02)
        print(json.dumps({"clients": args.clients, "prompt_tokens": args.prompt_tokens,
                          "running_at_close": running, "free_after_s": releases[-1] if releases else 0,
                          "releases_s": releases, "cancelled": health(base)["pool"]["cancelled"]}))
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
