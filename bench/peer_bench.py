"""peer_bench.py — kiln against PyTorch 2.x on the CPU, in one run (driven by bench/peer_bench.sh,
which provides the venv's python and the built peak probe).

For each case, kiln's executable (compiled once) and the PyTorch twin (bench/peer_torch_worker.py,
one process per thread count holding the eager NCHW, channels_last and torch.compile variants)
are timed alternately for --rounds rounds at each thread count: kiln, then each PyTorch variant,
then kiln again... Each timing is --iters iterations after a warm-up; the table gives the best
round of each (least disturbed by other work), as wall ms and process CPU ms per iteration
(CPU time of all threads: the figure that stays meaningful on a shared machine).

GFLOP per step counts convolutions and linear layers (torch_models.conv_flops: forward, plus
weight and input gradients where they are computed). "% peak wall" = GFLOP / wall / (threads x
per-core peak); "% peak CPU" = GFLOP / CPU seconds / per-core peak. The per-core peak is the FMA
loop of bench/fma_peak.c run in the same session (its thread CPU time, so load does not lower it).

usage: see bench/peer_bench.sh --help
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (kiln spec, kiln entry, torch model, mode, batch, size, default iters)
CASES = {
    "sr_train224": ("models/sample_resnet.yaml", "train", "sample_resnet", "train_step", 32, 224, 3),
    "r50_train224": ("models/resnet50_scratch.yaml", "train", "resnet50", "train_step", 16, 224, 2),
    "ra_ft224": ("models/resnet_attention_finetune.yaml", "train", "resnet_attention_ft", "train_step", 16, 224, 2),
    "sr_train32": ("models/sample_resnet.yaml", "train", "sample_resnet", "train_step", 32, 32, 20),
    "r50_infer1": ("models/resnet50_scratch.yaml", "forward", "resnet50", "forward", 1, 224, 10),
    "sr_infer1": ("models/sample_resnet.yaml", "forward", "sample_resnet", "forward", 1, 224, 20),
}
TITLES = {
    "sr_train224": "Sample ResNet training step, 224x224, batch 32",
    "r50_train224": "ResNet50 (scratch) training step, 224x224, batch 16",
    "ra_ft224": "ResNet Attention fine-tune step, 224x224, batch 16",
    "sr_train32": "Sample ResNet training step, 32x32, batch 32",
    "r50_infer1": "ResNet50 inference, batch 1, 224x224",
    "sr_infer1": "Sample ResNet inference, batch 1, 224x224",
}


def cpu_model():
    """'model name (family F model M, AVX-512|AVX2)' from /proc/cpuinfo."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                info.setdefault(k.strip(), v.strip())
    except OSError:
        return platform.processor() or "unknown CPU"
    flags = info.get("flags", "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return (f"{info.get('model name', 'unknown CPU')} (family {info.get('cpu family', '?')} model"
            f" {info.get('model', '?')}, {isa})")


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def peak(probe, threads):
    """Per-core fp32 peak (GFLOP/s per CPU second of a thread), the best over thread counts 1..threads."""
    out = subprocess.run([probe, str(threads), "1.0"], capture_output=True, text=True, check=True).stdout
    vals = [float(m.group(1)) for m in re.finditer(r"per-thread cpu ([0-9.]+)", out)]
    return max(vals), out.strip()


def kiln_time(exe, mode, iters, threads):
    out = subprocess.run([exe, "bench", mode, f"--iters={iters}", f"--threads={threads}"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"([0-9.]+) ms/iter.*?([0-9.]+) CPU ms/iter", out)
    if not m:
        raise SystemExit(f"cannot parse kiln output: {out}")
    return float(m.group(1)), float(m.group(2))


class Worker:
    def __init__(self, py, model, mode, batch, size, threads):
        self.p = subprocess.Popen([py, os.path.join(HERE, "peer_torch_worker.py"), model, mode, str(batch),
                                   str(size), str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd=HERE)
        line = self.p.stdout.readline()
        m = re.match(r"ready flops=(\d+) version=(\S+)", line)
        if not m:
            raise SystemExit(f"PyTorch worker failed to start: {line!r}")
        self.flops, self.version = int(m.group(1)), m.group(2)

    def time(self, variant, iters):
        self.p.stdin.write(f"{variant} {iters}\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        m = re.search(r"wall_ms=([0-9.]+) cpu_ms=([0-9.]+) warm_s=([0-9.]+)", line)
        if not m:
            raise SystemExit(f"PyTorch worker failed on {variant}: {line!r}")
        return float(m.group(1)), float(m.group(2)), float(m.group(3))

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build/kiln"))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--variants", default="eager,channels_last,compile")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=0, help="iterations per timing (0: per-case default)")
    ap.add_argument("--tmp", required=True)
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    variants = [v for v in a.variants.split(",") if v]
    pk, pk_text = peak(a.probe, max(threads))
    say = lambda s: print(s, flush=True)
    log = lambda s: print(s, file=sys.stderr, flush=True)
    say(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say(f"Peak probe (bench/fma_peak.c, same run): {pk:.1f} fp32 GFLOP/s per core ({'; '.join(pk_text.splitlines())})")
    say(f"Load average at start: {load()}; rounds {a.rounds}, best round reported")
    summary = []
    for case in a.cases.split(","):
        spec, entry, tmodel, mode, batch, size, iters = CASES[case]
        iters = a.iters or iters
        exe = os.path.join(a.tmp, case)
        t0 = time.time()
        subprocess.run([a.kiln, "compile", os.path.join(ROOT, spec), "--batch", str(batch), "--input",
                        f"{size}x{size}", f"--entry={entry}", "-o", exe], check=True, stdout=subprocess.DEVNULL)
        ctime = time.time() - t0
        rows = []
        for t in threads:
            w = Worker(a.python, tmodel, mode, batch, size, t)
            gflop = w.flops * 1e-9
            res = {"kiln": []}
            l0 = load()
            for r in range(a.rounds):
                res["kiln"].append(kiln_time(exe, mode, iters, t))
                log(f"{case} t{t} r{r + 1}: kiln {res['kiln'][-1]} (load {load()})")
                for v in variants:
                    wall, cpu, warm = w.time(v, iters)
                    res.setdefault(v, []).append((wall, cpu))
                    res.setdefault(v + "_warm", []).append(warm)
                    log(f"{case} t{t} r{r + 1}: {v} {(wall, cpu)} warm {warm:.1f}s (load {load()})")
            w.close()
            l1 = load()
            best = {k: (min(x[0] for x in v), min(x[1] for x in v)) for k, v in res.items() if not k.endswith("_warm")}
            for k, (wall, cpu) in best.items():
                rows.append((t, k, wall, cpu, gflop, best, l0, l1, res.get(k + "_warm", [0])[0]))
            summary.append((case, t, best))
        say("")
        say(f"### {TITLES[case]} (kiln compile {ctime:.1f} s; {gflop:.1f} GFLOP per step; PyTorch {w.version};"
            f" {cpu_model()})")
        say("")
        say("| threads | implementation | wall ms/iter | CPU ms/iter | % peak (wall) | % peak (CPU) |"
            " kiln speed-up (wall) | kiln speed-up (CPU) | load before/after |")
        say("|---|---|---|---|---|---|---|---|---|")
        for t, k, wall, cpu, gf, best, l0, l1, warm in rows:
            kw, kc = best["kiln"]
            name = k if k != "compile" else f"compile (compiled in {warm:.0f} s)"
            name = "kiln" if k == "kiln" else f"PyTorch {name}"
            sw = "" if k == "kiln" else f"{wall / kw:.2f}x"
            sc = "" if k == "kiln" else f"{cpu / kc:.2f}x"
            say(f"| {t} | {name} | {wall:.1f} | {cpu:.1f} | {100 * gf / (wall * 1e-3) / (t * pk):.0f}% |"
                f" {100 * gf / (cpu * 1e-3) / pk:.0f}% | {sw} | {sc} | {l0}/{l1} |")
    say("")
    say(f"### Summary: kiln's speed-up over PyTorch eager NCHW and PyTorch's best variant ({cpu_model()})")
    say("")
    say("| case | threads | vs eager (wall) | vs eager (CPU) | PyTorch best variant (by CPU) | vs best (wall) | vs best (CPU) |")
    say("|---|---|---|---|---|---|---|")
    for case, t, best in summary:
        kw, kc = best["kiln"]
        others = {k: v for k, v in best.items() if k != "kiln"}
        if not others:
            continue
        bk = min(others, key=lambda k: others[k][1])
        e = others.get("eager")
        ew = f"{e[0] / kw:.2f}x" if e else ""
        ec = f"{e[1] / kc:.2f}x" if e else ""
        say(f"| {case} | {t} | {ew} | {ec} | {bk} | {others[bk][0] / kw:.2f}x | {others[bk][1] / kc:.2f}x |")
    say(f"\nLoad average at end: {load()}")


if __name__ == "__main__":
    main()
