#!/usr/bin/env python3
"""ab_diff.py — the per-kernel difference of two `bench ENTRY --profile=csv` series (bench/ab.sh).

usage: ab_diff.py --top K A1.csv A2.csv ... -- B1.csv B2.csv ...   (one CSV per round)

Kernels of the two builds are matched through their member nodes ("op:node"): the kernels of A and
B that share a node are joined (union-find) into one row, the smallest set of nodes that both
builds cover with whole kernels. A row whose A side is three kernels (conv, BN, ReLU) and B side
one (the fused conv) is exactly what a fusion pass changed. Time per row: the sum over its kernels
of the median over rounds of ms per step. Rows sorted by |B - A|; a last row sums all kernels.
Prints a Markdown table on stdout. Python 3 standard library only.
"""
import csv
import statistics
import sys


def load(paths):
    """kernel name -> (members, median over rounds of ms per step); and the step ms per round."""
    kernels, steps = {}, []
    for path in paths:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        step = [r for r in rows if r["kernel"] == "(step)"][0]
        iters = max(1, int(step["calls"]))
        steps.append(float(step["total_ns"]) / 1e6 / iters)
        for r in rows:
            if not r["kernel"].startswith("("):
                kernels.setdefault(r["kernel"], [r["members"], []])[1].append(float(r["total_ns"]) / 1e6 / iters)
    return {n: (m, statistics.median(ts)) for n, (m, ts) in kernels.items()}, steps


def main(argv):
    top = 12
    if argv[:1] == ["--top"]:
        top, argv = int(argv[1]), argv[2:]
    split = argv.index("--")
    a, a_steps = load(argv[:split])
    b, b_steps = load(argv[split + 1:])
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    node_kernels = {}
    for side, ks in (("A", a), ("B", b)):
        for name, (members, _) in ks.items():
            key = (side, name)
            find(key)
            seen = {}
            for m in members.split():
                seen[m] = seen.get(m, 0) + 1
                node = (m, seen[m])  # a repeated name counts as another node
                if node in node_kernels:
                    parent[find(key)] = find(node_kernels[node])
                else:
                    node_kernels[node] = key
    rows = {}
    for side, ks in (("A", a), ("B", b)):
        for name, (members, ms) in ks.items():
            r = rows.setdefault(find((side, name)), {"A": [], "B": [], "msA": 0.0, "msB": 0.0, "members": []})
            r[side].append(name)
            r["ms" + side] += ms
            if side == "B" or not r["members"]:
                r["members"] = members.split()
    index = lambda name: int(name[len("kn_kern"):].split("_")[0]) if name.startswith("kn_kern") else 0
    for r in rows.values():
        r["A"].sort(key=index)
        r["B"].sort(key=index)
    out = sorted(rows.values(), key=lambda r: -abs(r["msB"] - r["msA"]))
    print("| kernels in A | kernels in B | A ms/step | B ms/step | B - A ms | nodes |")
    print("|---|---|---:|---:|---:|---|")
    for r in out[:top]:
        nodes = " ".join(r["members"][:4]) + (" ..." if len(r["members"]) > 4 else "")
        print("| %s | %s | %.3f | %.3f | %+.3f | %s |" % (
            " ".join(r["A"]) or "-", " ".join(r["B"]) or "-", r["msA"], r["msB"], r["msB"] - r["msA"], nodes))
    sa, sb = sum(r["msA"] for r in out), sum(r["msB"] for r in out)
    print("| all %d kernels | all %d kernels | %.3f | %.3f | %+.3f | %d rows, %d shown |" % (
        len(a), len(b), sa, sb, sb - sa, len(out), min(top, len(out))))
    if a_steps and b_steps:
        ma, mb = statistics.median(a_steps), statistics.median(b_steps)
        print("| step (bench) | step (bench) | %.3f | %.3f | %+.3f | kernels cover %.1f %% / %.1f %% |" % (
            ma, mb, mb - ma, 100 * sa / ma if ma else 0, 100 * sb / mb if mb else 0))


if __name__ == "__main__":
    main(sys.argv[1:])
