#!/usr/bin/python3
"""make_golden.py — writes tests/golden/tiny_cbam.bin, PyTorch's answer for a tiny CIFAR-shaped
network, checked by test_golden.c against kiln's autodiff + reference interpreter.

Run by hand with Debian's python3-torch (apt-get install python3-torch):
    /usr/bin/python3 tests/golden/make_golden.py [out.bin]

Network (input [4, 3, 16, 16], 10 classes; every BatchNorm eps 1e-5, momentum 0.1):
    conv1 3x3 3->8 (no bias) -> bn1 -> relu -> maxpool 2/2                      = x0 [4, 8, 8, 8]
    block.conv1 3x3 -> block.bn1 -> relu -> block.conv2 3x3 -> block.bn2          = f
    CBAM(8, r=2): channel  mc = sigmoid(mlp(avgpool f) + mlp(maxpool f)), mlp = 1x1 conv 8->4
                  (ca.fc1, no bias) -> relu -> 1x1 conv 4->8 (ca.fc2, no bias); f1 = f * mc
                  spatial ms = sigmoid(sa.conv 7x7 pad 3 ([mean_c f1; max_c f1])); f2 = f1 * ms
    relu(f2 + x0) -> global avgpool -> flatten -> fc (8->10, bias) -> log_softmax -> nll_loss

Weights are drawn in float32 (PyTorch's default init; BN weight/bias randomised so their gradients
matter); everything is then computed in float64 so the file holds the exact answer for those
float32 inputs. Then 5 SGD steps (lr 0.1, momentum 0.9) on the same batch record the 5 losses and
the final running statistics of bn1.

File format (little endian): magic "KNGOLD\\0\\0" (8 bytes), u32 version (1), u32 tensor count,
then per tensor: u32 name length, name bytes, u32 dtype (0 f32, 1 i32), u32 rank, u32 dims[rank],
the elements. Tensors: input, labels, every parameter, logits (log-probabilities), loss,
grad:<param> for every parameter, losses [5], final:bn1.running_mean, final:bn1.running_var.
"""
import os
import struct
import sys

import torch
import torch.nn.functional as F

N, C, H, W, K = 4, 3, 16, 16, 10
MAGIC, VERSION = b"KNGOLD\0\0", 1


def make_params():
    torch.manual_seed(1234)
    p = {}

    def conv(name, co, ci, k):
        m = torch.nn.Conv2d(ci, co, k, bias=False)
        p[name + ".weight"] = m.weight.detach().clone()

    def bn(name, c):
        p[name + ".weight"] = torch.empty(c).uniform_(0.5, 1.5)
        p[name + ".bias"] = torch.empty(c).uniform_(-0.2, 0.2)

    conv("conv1", 8, 3, 3)
    bn("bn1", 8)
    conv("block.conv1", 8, 8, 3)
    bn("block.bn1", 8)
    conv("block.conv2", 8, 8, 3)
    bn("block.bn2", 8)
    conv("block.ca.fc1", 4, 8, 1)
    conv("block.ca.fc2", 8, 4, 1)
    conv("block.sa.conv", 1, 2, 7)
    fc = torch.nn.Linear(8, K)
    p["fc.weight"] = fc.weight.detach().clone()
    p["fc.bias"] = fc.bias.detach().clone()
    return p


BNS = ["bn1", "block.bn1", "block.bn2"]


def forward(p, stats, x, y):
    def bn(name, t):
        return F.batch_norm(t, stats[name + ".running_mean"], stats[name + ".running_var"],
                            p[name + ".weight"], p[name + ".bias"], training=True, momentum=0.1, eps=1e-5)

    def mlp(t):
        return F.conv2d(F.relu(F.conv2d(t, p["block.ca.fc1.weight"])), p["block.ca.fc2.weight"])

    t = F.relu(bn("bn1", F.conv2d(x, p["conv1.weight"], padding=1)))
    x0 = F.max_pool2d(t, 2, 2)
    t = F.relu(bn("block.bn1", F.conv2d(x0, p["block.conv1.weight"], padding=1)))
    f = bn("block.bn2", F.conv2d(t, p["block.conv2.weight"], padding=1))
    mc = torch.sigmoid(mlp(F.adaptive_avg_pool2d(f, 1)) + mlp(F.adaptive_max_pool2d(f, 1)))
    f1 = f * mc
    s = torch.cat([f1.mean(dim=1, keepdim=True), f1.amax(dim=1, keepdim=True)], dim=1)
    f2 = f1 * torch.sigmoid(F.conv2d(s, p["block.sa.conv.weight"], padding=3))
    t = F.relu(f2 + x0)
    logp = F.log_softmax(F.linear(torch.flatten(F.adaptive_avg_pool2d(t, 1), 1), p["fc.weight"], p["fc.bias"]), dim=1)
    return logp, F.nll_loss(logp, y)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/tiny_cbam.bin"
    p32 = make_params()
    g = torch.Generator().manual_seed(99)
    x32 = torch.rand(N, C, H, W, generator=g) * 2 - 1
    y = torch.randint(0, K, (N,), generator=g)
    tensors = [("input", x32), ("labels", y.to(torch.int32))]
    tensors += [(k, v) for k, v in p32.items()]

    p = {k: v.double().requires_grad_(True) for k, v in p32.items()}
    stats = {}
    for b in BNS:
        c = p[b + ".weight"].shape[0]
        stats[b + ".running_mean"] = torch.zeros(c, dtype=torch.float64)
        stats[b + ".running_var"] = torch.ones(c, dtype=torch.float64)
    opt = torch.optim.SGD(list(p.values()), lr=0.1, momentum=0.9)
    x = x32.double()
    losses = []
    for step in range(5):
        opt.zero_grad()
        logp, loss = forward(p, stats, x, y)
        loss.backward()
        if step == 0:
            tensors.append(("logits", logp.detach()))
            tensors.append(("loss", loss.detach().reshape(1)))
            tensors += [("grad:" + k, v.grad.detach().clone()) for k, v in p.items()]
        losses.append(loss.item())
        opt.step()
    tensors.append(("losses", torch.tensor(losses)))
    tensors.append(("final:bn1.running_mean", stats["bn1.running_mean"]))
    tensors.append(("final:bn1.running_var", stats["bn1.running_var"]))

    blob = bytearray(MAGIC + struct.pack("<II", VERSION, len(tensors)))
    for name, t in tensors:
        t = t.contiguous()
        is_int = t.dtype in (torch.int32, torch.int64)
        t = t.to(torch.int32 if is_int else torch.float32)
        nb = name.encode()
        blob += struct.pack("<I", len(nb)) + nb + struct.pack("<II", 1 if is_int else 0, t.dim())
        blob += struct.pack("<%dI" % t.dim(), *t.shape)
        blob += t.numpy().astype("<i4" if is_int else "<f4").tobytes()
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, out)
    print("%s: %d tensors, %d bytes, loss %.6f, losses %s" % (out, len(tensors), len(blob), losses[0],
                                                             " ".join("%.6f" % l for l in losses)))


if __name__ == "__main__":
    main()
