"""The anatomy U-Net: a plain encoder-decoder with skip connections, written out so that
nothing is downloaded and the exported ONNX graph has only standard operators
(Conv, BatchNormalization folded into Conv on export, Relu, MaxPool, Resize, Concat).

Five outputs, one sigmoid per structure (they may overlap: SCR's clavicles lie over the lungs).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

STRUCTURES = ("right_lung", "left_lung", "heart", "right_clavicle", "left_clavicle")


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net with ``len(widths)`` levels; input (B, 1, S, S) with S divisible by
    2 ** (levels - 1); output logits (B, len(STRUCTURES), S, S)."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128, 256)) -> None:
        super().__init__()
        self.widths = widths
        self.down = nn.ModuleList([_block(1, widths[0])])
        self.down.extend(_block(a, b) for a, b in itertools.pairwise(widths))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.merge = nn.ModuleList(_block(b + a, a) for a, b in itertools.pairwise(widths))
        self.head = nn.Conv2d(widths[0], len(STRUCTURES), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for merge in reversed(self.merge):
            x = merge(torch.cat([self.up(x), skips.pop()], dim=1))
        return self.head(x)
