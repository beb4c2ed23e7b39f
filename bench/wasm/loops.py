"""The hot loop of one function in `perf annotate --stdio` output (bench/wasm/profile.sh): the
shortest span [target, branch] of a backward branch that holds at least half of the
function's samples (the outer loops hold them all). Prints its
instructions per turn (alignment nops left out), their mix, the loop's share of the
function's samples, and the share on its single hottest instruction."""

import collections
import re
import sys

LINE = re.compile(r"\s*([\d.]+)\s*:\s*([0-9a-f]+):\s+(\S+)\s*(.*)")
BRANCH = re.compile(r"^([0-9a-f]+)\s*<")


def main(path):
    code = []  # (address, share %, mnemonic, operands)
    for line in open(path):
        m = LINE.match(line)
        if m:
            code.append((int(m[2], 16), float(m[1]), m[3], m[4]))
    loops = []
    for address, _, op, operands in code:
        b = BRANCH.match(operands)
        if op.startswith("j") and b and int(b[1], 16) < address:
            body = [c for c in code if int(b[1], 16) <= c[0] <= address]
            loops.append((sum(c[1] for c in body), body))
    if not loops:
        return "no loop"
    most = max(share for share, _ in loops)
    share, body = min((l for l in loops if l[0] >= most / 2), key=lambda l: len(l[1]))
    ops = [c for c in body if not c[2].startswith(("nop", "xchg"))]
    mix = collections.Counter(c[2] for c in ops).most_common()
    hottest = max(c[1] for c in ops)
    return (f"hot loop {len(ops)} instructions a turn, {share:.0f}% of its samples, "
            f"{hottest:.0f}% on one instruction; " + " ".join(f"{op} {n}" for op, n in mix))


if __name__ == "__main__":
    print(main(sys.argv[1]))
