#!/usr/bin/env python3
"""make_preprocess_golden.py — writes tests/runtime/golden/preprocess.bin: torchvision's answers
for kiln's image preprocessing steps (runtime/kn_aug.c), checked by test_preprocess.c.

Run with any Python that has torch and torchvision (the project's bench venv, or e.g.
/work/torch-venv/bin/python3 on the development machine):
    python3 tests/runtime/make_preprocess_golden.py [out.bin]

Input: a 48x64 RGB uint8 image of seeded noise plus a few edges (so antialiasing matters), as a
uint8 CHW tensor. Cases (torchvision.transforms.v2, antialias=True, the default):
    shorter_20        Resize(20)                                   uint8 -> 20x26
    exact_17x23       Resize((17, 23))                             uint8
    mixed_30x90       Resize((30, 90)): height down, width up      uint8
    up_80x100         Resize((80, 100)): upscale                   uint8
    eval_32_24        Resize(32), CenterCrop(24), ToDtype(float32, scale=True),
                      Normalize(ImageNet mean, std)                float32 (the Resize(256) +
                                                                   CenterCrop(224) pipeline, scaled)
    crop_odd_13x20    CenterCrop((13, 20)) of the input            uint8 (odd margins: rounding)

File format (little endian): magic "KNPREP\\0\\0", u32 version (1), u32 count; per entry: u32 name
length, name, u32 dtype (0 u8, 1 f32), u32 c, u32 h, u32 w, then c*h*w elements in CHW order.
The first entry is the input image ("input").
"""
import struct
import sys

import torch
from torchvision.transforms import v2

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def make_input():
    g = torch.Generator().manual_seed(1234)
    img = torch.randint(0, 256, (3, 48, 64), generator=g, dtype=torch.uint8)
    img[:, 10:20, :] = 255  # a bright band and a dark column: sharp edges
    img[:, :, 30:33] = 0
    return img


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/runtime/golden/preprocess.bin"
    x = make_input()
    cases = [
        ("input", x),
        ("shorter_20", v2.Resize(20, antialias=True)(x)),
        ("exact_17x23", v2.Resize((17, 23), antialias=True)(x)),
        ("mixed_30x90", v2.Resize((30, 90), antialias=True)(x)),
        ("up_80x100", v2.Resize((80, 100), antialias=True)(x)),
        ("eval_32_24", v2.Compose([v2.Resize(32, antialias=True), v2.CenterCrop(24),
                                   v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)])(x)),
        ("crop_odd_13x20", v2.CenterCrop((13, 20))(x)),
    ]
    with open(out, "wb") as f:
        f.write(b"KNPREP\0\0" + struct.pack("<II", 1, len(cases)))
        for name, t in cases:
            t = t.contiguous()
            f32 = t.dtype == torch.float32
            f.write(struct.pack("<I", len(name)) + name.encode())
            f.write(struct.pack("<IIII", 1 if f32 else 0, *t.shape))
            f.write(t.numpy().astype("<f4" if f32 else "u1").tobytes())
    print(f"wrote {out}: {len(cases)} tensors (torch {torch.__version__})")


if __name__ == "__main__":
    main()
