"""conv_layers.py — per-layer convolution benchmark (driven by bench/conv_layers.sh): every
distinct convolution shape of the seed models' training steps (Sample ResNet b32, ResNet50 b16,
ResNet Attention fine-tune b16, all 224x224; shapes taken from the PyTorch twins in
torch_models.py), forward, grad-input and grad-weight, kiln's kernel against PyTorch's on the same
shape, alternated (kiln, PyTorch) per shape and op.

kiln's side: kernels/conv.c compiled with clang-14 at -O3 for x86-64-v4 with 512-bit vectors,
each shape through a wrapper with constant shapes (what kiln's specialisation does), work items
shared by the threads one at a time as in the runtime's pool (bench/conv_layer_main.h). Only the
plain kernels are timed (kiln's step may run them with a fused epilogue). PyTorch's side:
torch.nn.functional.conv2d and torch.ops.aten.convolution_backward (one output mask each), i.e.
oneDNN/MKL as PyTorch picks them. GFLOP/s = 2 * MACs / time; "% peak" against the FMA probe's
per-core figure (bench/fma_peak.c, same run): by CPU time (per core) and by wall time x threads.
"""
import argparse
import os
import re
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import peer_bench  # noqa: E402
import torch_models  # noqa: E402

SOURCES = (("sample_resnet", 32), ("resnet50", 16), ("resnet_attention_ft", 16))


def distinct_shapes():
    """(key, first model) of every distinct convolution, in the order met."""
    out, seen = [], set()
    for name, batch in SOURCES:
        torch.manual_seed(0)
        m = torch_models.MODELS[name]()
        for d in torch_models.conv_shapes(m, torch.rand(batch, 3, 224, 224)):
            if d["kind"] != "conv":
                continue
            n, ci, h, w = d["in"]
            _, co, oh, ow = d["out"]
            key = (n, ci, h, w, co, oh, ow, d["k"][0], d["k"][1], d["s"][0], d["s"][1], d["p"][0], d["p"][1], d["g"])
            if key not in seen:
                seen.add(key)
                out.append((key, name))
    return out


def gen_source(shapes, path):
    from_kernels = os.path.join(ROOT, "compiler/codegen/cpu/kernels")
    lines = ["#pragma clang attribute push (__attribute__((always_inline)), apply_to = function)",
             f'#include "{from_kernels}/conv.c"', "#pragma clang attribute pop", ""]
    table = []
    for i, (k, _) in enumerate(shapes):
        n, ci, h, w, co, oh, ow, kh, kw, sh, sw, ph, pw, g = k
        direct = int(kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0)
        geo = f"{n}, {ci}, {h}, {w}, {co}, {oh}, {ow}, {kh}, {kw}, {sh}, {sw}, {ph}, {pw}, 1, 1, {g}"
        lines += [
            f"static void f{i}(void *const *p, int64_t b, int64_t e) {{ kn_k_conv2d(p, b, e, {geo}, 0); }}",
            f"static void gi{i}(void *const *p, int64_t b, int64_t e) {{"
            f" kn_k_conv2d_grad_input(p, b, e, {geo}, {direct}); }}",
            f"static void gw{i}(void *const *p, int64_t b, int64_t e) {{ kn_k_conv2d_grad_weight(p, b, e, {geo}); }}"]
        p = oh * ow
        gi_items = f"kn_conv_fwd_items({n}, {g}, {ci // g}, {p})" if direct else f"{n * g}"
        table.append(f"  {{{n}, {ci}, {h}, {w}, {co}, {oh}, {ow}, {kh}, {kw}, {g}, kn_conv_fwd_items({n}, {g}, {co // g},"
                     f" {p}), {gi_items}, kn_conv_gw_items({g}, {co // g}, {ci // g * kh * kw}), f{i}, gi{i}, gw{i}}},")
    lines += ["", '#include "conv_layer_main.h"', "", "static const kn_layer *kn_layer_table(void) {",
              f"  static kn_layer t[{len(table)}];", "  kn_layer l[] = {"] + table + [
        "  };", "  memcpy(t, l, sizeof l);", "  return t;", "}", ""]
    src = "\n".join(lines)
    with open(path, "w") as f:
        f.write(src)


def torch_time(key, op, threads, min_s):
    n, ci, h, w, co, oh, ow, kh, kw, sh, sw, ph, pw, g = key
    torch.set_num_threads(threads)
    x = torch.rand(n, ci, h, w) * 2 - 1
    wt = torch.rand(co, ci // g, kh, kw) * 2 - 1
    dy = torch.rand(n, co, oh, ow) * 2 - 1
    mask = {"fwd": None, "gi": [True, False, False], "gw": [False, True, False]}[op]

    def call():
        if mask is None:
            torch.nn.functional.conv2d(x, wt, None, (sh, sw), (ph, pw), 1, g)
        else:
            torch.ops.aten.convolution_backward(dy, x, wt, None, [sh, sw], [ph, pw], [1, 1], False, [0, 0], g, mask)

    call()
    w0, c0, calls = time.perf_counter(), time.process_time(), 0
    while True:
        call()
        calls += 1
        if calls >= 2 and time.perf_counter() - w0 >= min_s:
            break
    return (time.perf_counter() - w0) / calls * 1e3, (time.process_time() - c0) / calls * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--ops", default="fwd,gi,gw")
    ap.add_argument("--min-seconds", type=float, default=0.3)
    ap.add_argument("--only", default="", help="comma-separated shape numbers (default: all)")
    a = ap.parse_args()
    shapes = distinct_shapes()
    src, exe = os.path.join(a.tmp, "layers.c"), os.path.join(a.tmp, "layers")
    gen_source(shapes, src)
    subprocess.run(["clang-14", "-std=c11", "-O3", "-march=x86-64-v4", "-mprefer-vector-width=512",
                    "-ffp-contract=on", "-fno-math-errno", "-w", "-I", HERE, "-pthread", src, "-o", exe, "-lm"],
                   check=True)
    threads = [int(t) for t in a.threads.split(",")]
    pk, pk_text = peer_bench.peak(a.probe, max(threads))
    cpu = peer_bench.cpu_model()
    print(f"CPU: {cpu}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; PyTorch {torch.__version__}")
    print(f"Peak probe: {pk:.1f} fp32 GFLOP/s per core ({'; '.join(pk_text.splitlines())});"
          f" load average at start {peer_bench.load()}")
    print("")
    print(f"GFLOP/s per core from process CPU time; % of the {pk:.0f} GFLOP/s per-core peak. ({cpu})")
    print("")
    print("| # | shape (N Ci HxW -> Co OHxOW, k s p g) | model | op | T | GFLOP | kiln GFLOP/s | kiln % peak |"
          " PyTorch GFLOP/s | PyTorch % peak | kiln / PyTorch | kiln wall % peak |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    only = {int(s) for s in a.only.split(",") if s}
    tot = {}
    for i, (key, model) in enumerate(shapes):
        if only and i not in only:
            continue
        n, ci, h, w, co, oh, ow, kh, kw, sh, sw, ph, pw, g = key
        gflop = 2 * n * co * oh * ow * (ci // g) * kh * kw * 1e-9
        desc = f"{n} {ci} {h}x{w} -> {co} {oh}x{ow}, {kh}x{kw} s{sh} p{ph}" + (f" g{g}" if g > 1 else "")
        for op in a.ops.split(","):
            for t in threads:
                out = subprocess.run([exe, str(i), op, str(t), str(a.min_seconds)], capture_output=True, text=True,
                                     check=True).stdout
                m = re.search(r"wall_ms=([0-9.]+) cpu_ms=([0-9.]+)", out)
                kwall, kcpu = float(m.group(1)), float(m.group(2))
                pwall, pcpu = torch_time(key, op, t, a.min_seconds)
                kg, pg = gflop / (kcpu * 1e-3), gflop / (pcpu * 1e-3)
                s = tot.setdefault((op, t), [0, 0, 0])
                s[0] += gflop
                s[1] += kcpu
                s[2] += pcpu
                print(f"| {i} | {desc} | {model} | {op} | {t} | {gflop:.2f} | {kg:.0f} | {100 * kg / pk:.0f}% | {pg:.0f} |"
                      f" {100 * pg / pk:.0f}% | {pcpu / kcpu:.2f}x | {100 * gflop / (kwall * 1e-3) / (t * pk):.0f}% |",
                      flush=True)
    print("")
    print("| op | threads | all shapes: kiln GFLOP/s (CPU) | PyTorch GFLOP/s (CPU) | kiln / PyTorch |")
    print("|---|---|---|---|---|")
    for (op, t), (gf, kc, pc) in tot.items():
        print(f"| {op} | {t} | {gf / (kc * 1e-3):.0f} ({100 * gf / (kc * 1e-3) / pk:.0f}%) |"
              f" {gf / (pc * 1e-3):.0f} ({100 * gf / (pc * 1e-3) / pk:.0f}%) | {pc / kc:.2f}x |")
    print(f"\nLoad average at end: {peer_bench.load()}")


if __name__ == "__main__":
    main()
