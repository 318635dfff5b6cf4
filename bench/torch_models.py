#!/usr/bin/python3
"""torch_models.py — PyTorch twins of kiln's seed models (models/sample_resnet.yaml and
models/resnet50_scratch.yaml, layouts in docs/models) timed the same way as a kiln executable's
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


def main():
    name, mode, batch, size, threads, iters = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = {"sample_resnet": sample_resnet, "resnet50": resnet50}[name]()
    x = torch.rand(batch, 3, size, size) * 2 - 1
    labels = torch.arange(batch) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

    def step():
        if mode == "forward":
            with torch.no_grad():
                model(x)
            return
        opt.zero_grad()
        F.nll_loss(model(x), labels).backward()
        opt.step()

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
