"""bf16_bench.py — `kiln compile --cpu-math=bf16` against kiln fp32 and PyTorch 2.x (fp32 and
torch.autocast("cpu", torch.bfloat16)) in one run (driven by bench/bf16_bench.sh, which provides
the venv's python).

For each case kiln is compiled twice (--cpu-math=fp32, --cpu-math=bf16); the four contenders are
timed alternately for --rounds rounds (kiln fp32, kiln bf16, PyTorch fp32, PyTorch bf16, then
again), each timing --iters iterations after a warm-up; the table gives the best round of each as
wall ms and process CPU ms per iteration (CPU time of all threads: the figure that stays
meaningful on a shared machine; kiln's is its process's whole CPU time over iters + 1, so it
includes set-up and the warm-up call, PyTorch's the timed loop only) and the ratios of the wall
times (and, in brackets, of the CPU times). The PyTorch twins are bench/torch_models.py's
(the ResNet Attention fine-tune twin defined here when that file has none).

usage: bf16_bench.py --python PY --tmp DIR [--kiln build/kiln] [--cases ...] [--threads 2]
                     [--rounds 2] [--iters N]
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (kiln spec, kiln entry, torch twin, mode, batch, size, iters, title)
CASES = {
    "sr_train224": ("models/sample_resnet.yaml", "train", "sample_resnet", "train_step", 32, 224, 2,
                    "Sample ResNet training step, 224x224, batch 32"),
    "r50_train224": ("models/resnet50_scratch.yaml", "train", "resnet50", "train_step", 16, 224, 1,
                     "ResNet50 (scratch) training step, 224x224, batch 16"),
    "ra_ft224": ("models/resnet_attention_finetune.yaml", "train", "resnet_attention_ft", "train_step", 16, 224, 2,
                 "ResNet Attention fine-tune step, 224x224, batch 16"),
    "r50_infer1": ("models/resnet50_scratch.yaml", "forward", "resnet50", "forward", 1, 224, 5,
                   "ResNet50 inference, batch 1, 224x224"),
    "sr_infer1": ("models/sample_resnet.yaml", "forward", "sample_resnet", "forward", 1, 224, 10,
                  "Sample ResNet inference, batch 1, 224x224"),
}

# The PyTorch side, run as `python -c TORCH_WORKER ...` in bench/: one timing per call.
TORCH_WORKER = r"""
import sys, time, torch
import torch_models
name, mode, batch, size, threads, iters, amp = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7]
torch.set_num_threads(threads)
torch.manual_seed(0)
models = torch_models.MODELS
if name not in models:
    print("missing"); sys.exit(0)
model = models[name]()
x = torch.rand(batch, 3, size, size) * 2 - 1
labels = torch.arange(batch) % 10
model.train(mode == "train_step")
step = torch_models.make_step(model, x, labels, mode, amp == "bf16")
step()
w0, c0 = time.perf_counter(), time.process_time()
for _ in range(iters):
    step()
print(f"wall_ms={(time.perf_counter() - w0) / iters * 1e3:.3f} cpu_ms={(time.process_time() - c0) / iters * 1e3:.3f} torch={torch.__version__}")
"""


def cpu_model():
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    flags = info.get("flags", "").split()
    feats = ", ".join(f for f in ("avx512f", "avx512_bf16", "amx_tile", "amx_bf16") if f in flags)
    return (f"{info.get('model name', 'unknown CPU')} (family {info.get('cpu family', '?')} model"
            f" {info.get('model', '?')}; {feats or 'no AVX-512'})")


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def kiln_time(exe, mode, iters, threads):
    """Wall ms per iteration as `bench` prints it; CPU ms per iteration as the process's CPU time
    (all threads, from the start, so including set-up) over iters + 1 (its warm-up call)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([exe, "bench", mode, f"--iters={iters}", f"--threads={threads}"], capture_output=True,
                         text=True, check=True).stdout
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = re.search(r"([0-9.]+) ms/iter", out)
    if not wall:
        raise SystemExit(f"cannot parse kiln output: {out}")
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / (iters + 1) * 1e3
    return float(wall.group(1)), cpu


def torch_time(py, tmodel, mode, batch, size, threads, iters, amp):
    out = subprocess.run([py, "-c", TORCH_WORKER, tmodel, mode, str(batch), str(size), str(threads), str(iters), amp],
                         capture_output=True, text=True, check=True, cwd=HERE).stdout
    if out.startswith("missing"):
        return None
    m = re.search(r"wall_ms=([0-9.]+) cpu_ms=([0-9.]+) torch=(\S+)", out)
    if not m:
        raise SystemExit(f"PyTorch failed: {out!r}")
    return float(m.group(1)), float(m.group(2)), m.group(3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--kiln", default=os.path.join(ROOT, "build/kiln"))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=0)
    a = ap.parse_args()
    say = lambda s: print(s, flush=True)
    log = lambda s: print(s, file=sys.stderr, flush=True)
    say(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs, {a.threads} threads; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at start {load()}")
    say("")
    say("| case | kiln fp32 ms (CPU ms) | kiln bf16 ms (CPU ms) | PyTorch fp32 ms (CPU ms) | PyTorch autocast bf16 ms (CPU ms) "
        "| kiln bf16 / kiln fp32 speed-up | kiln bf16 vs PyTorch bf16 | load before/after |")
    say("|---|---|---|---|---|---|---|---|")
    version = "?"
    for case in a.cases.split(","):
        spec, entry, tmodel, mode, batch, size, iters, title = CASES[case]
        iters = a.iters or iters
        exes = {}
        for math in ("fp32", "bf16"):
            exes[math] = os.path.join(a.tmp, f"{case}_{math}")
            subprocess.run([a.kiln, "compile", os.path.join(ROOT, spec), "--batch", str(batch), "--input",
                            f"{size}x{size}", f"--entry={entry}", f"--cpu-math={math}", "-o", exes[math]],
                           check=True, stdout=subprocess.DEVNULL)
        l0 = load()
        res = {k: [] for k in ("kf", "kb", "tf", "tb")}
        for r in range(a.rounds):
            res["kf"].append(kiln_time(exes["fp32"], mode, iters, a.threads))
            res["kb"].append(kiln_time(exes["bf16"], mode, iters, a.threads))
            for key, amp in (("tf", "fp32"), ("tb", "bf16")):
                t = torch_time(a.python, tmodel, mode, batch, size, a.threads, iters, amp)
                if t:
                    version = t[2]
                    res[key].append(t[:2])
            log(f"{case} round {r + 1}: {res} (load {load()})")
        best = {k: min(v) if v else None for k, v in res.items()}
        fmt = lambda t: f"{t[0]:.0f} ({t[1]:.0f})" if t else "n/a (no twin)"
        ratio = lambda x, y: f"{x[0] / y[0]:.2f}x ({x[1] / y[1]:.2f}x)" if x and y else "n/a"
        say(f"| {title} | {fmt(best['kf'])} | {fmt(best['kb'])} | {fmt(best['tf'])} | {fmt(best['tb'])} "
            f"| {ratio(best['kf'], best['kb'])} | {ratio(best['tb'], best['kb'])} | {l0}/{load()} |")
    say("")
    say(f"PyTorch {version}; best of {a.rounds} rounds (by wall time); speed-ups = time of the other / time of kiln bf16, "
        "wall (CPU) (>1: kiln bf16 faster).")


if __name__ == "__main__":
    main()
