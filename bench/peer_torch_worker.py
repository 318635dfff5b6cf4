"""peer_torch_worker.py — the PyTorch side of bench/peer_bench.py: one process per (model, mode,
batch, size, threads) holding every variant of the model, so the driver can alternate kiln and
PyTorch runs without rebuilding (or recompiling, for torch.compile) anything.

Variants: eager (NCHW), channels_last (model and input in torch.channels_last), compile
(torch.compile of the NCHW model, default mode). Protocol on stdin/stdout, one line each:
  first output line:  ready flops=<conv+linear FLOPs of one step> version=<torch version>
  input "VARIANT ITERS" -> output "VARIANT wall_ms=<per iter> cpu_ms=<per iter> warm_s=<first call>"
The first request for a variant runs one untimed warm-up step (for compile: the compilation),
reported as warm_s. CPU time is time.process_time() (all threads of this process).

usage: peer_torch_worker.py MODEL {train_step|forward} BATCH SIZE THREADS
"""
import sys
import time

import torch

import torch_models


def main():
    name, mode = sys.argv[1], sys.argv[2]
    batch, size, threads = map(int, sys.argv[3:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    base = torch_models.MODELS[name]()
    x = torch.rand(batch, 3, size, size) * 2 - 1
    labels = torch.arange(batch) % 10
    flops = torch_models.conv_flops(base, x, mode)
    base.train(mode == "train_step")
    steps, warm = {}, {}

    def build(variant):
        torch.manual_seed(0)
        m = torch_models.MODELS[name]()
        m.load_state_dict(base.state_dict())
        m.train(mode == "train_step")
        xi = x
        if variant == "channels_last":
            m = m.to(memory_format=torch.channels_last)
            xi = x.contiguous(memory_format=torch.channels_last)
        elif variant == "compile":
            m = torch.compile(m)
        elif variant != "eager":
            raise SystemExit(f"unknown variant {variant}")
        return torch_models.make_step(m, xi, labels, mode)

    print(f"ready flops={flops} version={torch.__version__}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 2:
            continue
        variant, iters = parts[0], max(int(parts[1]), 1)
        if variant not in steps:
            steps[variant] = build(variant)
            t0 = time.perf_counter()
            steps[variant]()
            warm[variant] = time.perf_counter() - t0
        step = steps[variant]
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            step()
        w, c = (time.perf_counter() - w0) / iters, (time.process_time() - c0) / iters
        print(f"{variant} wall_ms={w * 1e3:.3f} cpu_ms={c * 1e3:.3f} warm_s={warm[variant]:.2f}", flush=True)


if __name__ == "__main__":
    main()
