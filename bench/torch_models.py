#!/usr/bin/python3
"""torch_models.py — PyTorch twins of kiln's seed models (models/sample_resnet.yaml,
models/resnet50_scratch.yaml and models/resnet_attention_finetune.yaml, the last as
`resnet_attention_ft`: trunk frozen, BN in batch mode as kiln's default bn_frozen), with the
convolution/linear FLOP count of a step (conv_flops), timed the same way as a kiln executable's
`bench` command: a training step (forward, NLL loss, backward, SGD momentum 0.9) or inference
(eval mode, no grad) on random data. Prints `<model> <mode>: ... ms/iter, ... images/s`.

usage: torch_models.py MODEL {train_step|forward} BATCH SIZE THREADS ITERS
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CBAM(nn.Module):
    def __init__(self, c, r=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Conv2d(c, c // r, 1, bias=False), nn.ReLU(), nn.Conv2d(c // r, c, 1, bias=False))
        self.spatial = nn.Conv2d(2, 1, 7, padding=3, bias=False)

    def forward(self, x):
        a = torch.sigmoid(self.mlp(F.adaptive_avg_pool2d(x, 1)) + self.mlp(F.adaptive_max_pool2d(x, 1)))
        x = x * a
        s = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)
        return x * torch.sigmoid(self.spatial(s))


class ResAttention(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.cbam = CBAM(cout)
        self.short = None
        if cin != cout or stride != 1:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.cbam(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return F.relu(y + (self.short(x) if self.short is not None else x))


def sample_resnet():
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1), ResAttention(64, 64), ResAttention(64, 64), ResAttention(64, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10), nn.LogSoftmax(1))


class Bottleneck(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.down = None
        if stride != 1 or cin != planes * 4:
            self.down = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.down(x) if self.down is not None else x))


def resnet50():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for b in range(blocks):
            layers.append(Bottleneck(cin, planes, stride if b == 0 else 1))
            cin = planes * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 10), nn.LogSoftmax(1)]
    return nn.Sequential(*layers)


def resnet_attention_ft():
    """The ResNet50 trunk (frozen), conv3x3 2048->256 + BN + ReLU, ResAttention 256->128, pooling, fc."""
    trunk = resnet50()[:-4]
    for p in trunk.parameters():
        p.requires_grad_(False)
    return nn.Sequential(trunk, nn.Conv2d(2048, 256, 3, 1, 1), nn.BatchNorm2d(256), nn.ReLU(),
                         ResAttention(256, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10),
                         nn.LogSoftmax(1))


MODELS = {"sample_resnet": sample_resnet, "resnet50": resnet50, "resnet_attention_ft": resnet_attention_ft}


def conv_shapes(model, x):
    """The convolutions and linear layers one forward runs: a list of dicts with the input shape,
    the layer's parameters, whether its weight is trained and whether its input needs a gradient."""
    seen = []

    def hook(mod, inp, out):
        i = inp[0]
        d = {"kind": "linear" if isinstance(mod, nn.Linear) else "conv", "in": tuple(i.shape),
             "out": tuple(out.shape), "train_w": mod.weight.requires_grad, "grad_in": i.requires_grad}
        if isinstance(mod, nn.Conv2d):
            d.update(co=mod.out_channels, k=mod.kernel_size, s=mod.stride, p=mod.padding, g=mod.groups)
        seen.append(d)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.enable_grad():
        model(x)
    for h in hs:
        h.remove()
    return seen


def layer_flops(d):
    """Forward multiply-add FLOPs (2 per MAC) of one entry of conv_shapes."""
    if d["kind"] == "linear":
        return 2 * d["in"][0] * d["in"][1] * d["out"][1]
    n, ci = d["in"][0], d["in"][1]
    _, co, oh, ow = d["out"]
    return 2 * n * co * oh * ow * (ci // d["g"]) * d["k"][0] * d["k"][1]


def conv_flops(model, x, mode):
    """FLOPs of the convolutions and linear layers of a step: forward, plus in a training step the
    weight gradient of trained layers and the input gradient where the input needs one."""
    total = 0
    for d in conv_shapes(model, x):
        f = layer_flops(d)
        total += f
        if mode == "train_step":
            total += f * (int(d["train_w"]) + int(d["grad_in"]))
    return total


def make_step(model, x, labels, mode, amp=False):
    """One iteration of `mode`: "forward" (no grad) or a training step (NLL, SGD momentum 0.9);
    amp=True runs the forward pass under torch.autocast("cpu", torch.bfloat16)."""
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.001, momentum=0.9)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            if mode == "forward":
                with torch.no_grad():
                    model(x)
                return
            opt.zero_grad()
            loss = F.nll_loss(model(x).float(), labels)
        loss.backward()
        opt.step()

    return step


def main():
    name, mode, batch, size, threads, iters = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MODELS[name]()
    x = torch.rand(batch, 3, size, size) * 2 - 1
    labels = torch.arange(batch) % 10
    step = make_step(model, x, labels, mode)
    model.train(mode == "train_step")
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    dt = (time.perf_counter() - t0) / max(iters, 1)
    params = sum(p.numel() for p in model.parameters())
    print(f"{name} {mode}: batch {batch}, {threads} threads, {dt * 1e3:.3f} ms/iter, {batch / dt:.2f} images/s"
          f" ({params} parameters)")


if __name__ == "__main__":
    main()
