"""Train the anatomy U-Net on the arrays written by prepare.py, on the CPU, one thread.

Augmentation, on every batch (real films differ from JSRT's digitised ones):
  geometry   rotation +-10 degrees, zoom 0.75..1.25, aspect 0.88..1.12, shift +-8 %, areas
             moved in from outside the film filled black (as letterboxing and collimation are);
             with probability --flip a left-right mirror WITHOUT swapping the labels, so the
             model names each lung by the anatomy next to it (heart, stomach bubble) rather than
             by its side of the image, and a mirrored film shows up as a heart on the wrong side;
  intensity  gamma 0.5..2, contrast 0.7..1.3, brightness +-0.12, blur or Gaussian noise.
Loss: binary cross-entropy + soft Dice, per structure (the structures overlap: clavicles lie
over the lungs). The checkpoint with the best mean validation Dice is kept.

Usage: python training/anatomy/train.py [--epochs 60] [--out ~/.cache/radqc-anatomy/run]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import STRUCTURES, UNet

CACHE = Path.home() / ".cache/radqc-anatomy"


def load_split(arrays: Path, part: str) -> tuple[torch.Tensor, torch.Tensor]:
    meta = json.loads((arrays / "split.json").read_text())
    index = [meta["cases"].index(c) for c in meta[part]]
    images = np.load(arrays / "images.npy")[index]
    masks = np.load(arrays / "masks.npy")[index]
    return torch.from_numpy(images)[:, None], torch.from_numpy(masks)


def affine(batch: int, flip: float, gen: torch.Generator) -> torch.Tensor:
    """Per-sample 2x3 matrices mapping output to input coordinates (affine_grid's convention)."""

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(batch, generator=gen)

    angle = uniform(-10, 10) * math.pi / 180
    zoom = uniform(0.75, 1.25)
    aspect = uniform(0.88, 1.12)
    sx, sy = 1 / (zoom * aspect.sqrt()), aspect.sqrt() / zoom
    mirror = torch.where(torch.rand(batch, generator=gen) < flip, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = cos * sx * mirror
    theta[:, 0, 1] = -sin * sy
    theta[:, 1, 0] = sin * sx * mirror
    theta[:, 1, 1] = cos * sy
    theta[:, 0, 2] = uniform(-0.08, 0.08)
    theta[:, 1, 2] = uniform(-0.08, 0.08)
    return theta


def augment(
    images: torch.Tensor, masks: torch.Tensor, flip: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    x = images.float() / 255
    y = masks.float() / 255
    grid = F.affine_grid(affine(len(x), flip, gen), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    y = F.grid_sample(y, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    n = len(x)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return (lo + (hi - lo) * torch.rand(n, generator=gen)).view(n, 1, 1, 1)

    x = x.clamp(0, 1) ** torch.exp(uniform(math.log(0.5), math.log(2.0)))
    x = (x - 0.5) * uniform(0.7, 1.3) + 0.5 + uniform(-0.12, 0.12)
    blur = torch.rand(n, generator=gen).view(n, 1, 1, 1) < 0.25
    x = torch.where(blur, F.avg_pool2d(x, 3, 1, 1, count_include_pad=False), x)
    noise = torch.randn(x.shape, generator=gen) * uniform(0.0, 0.03)
    return (x + noise).clamp(0, 1), y


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(0, 2, 3))
    total = prob.sum(dim=(0, 2, 3)) + target.sum(dim=(0, 2, 3))
    dice = (2 * inter + 1) / (total + 1)
    return bce + (1 - dice).mean()


@torch.no_grad()
def dice_scores(model: UNet, images: torch.Tensor, masks: torch.Tensor) -> np.ndarray:
    """Dice per film and structure (N, 5) at the array resolution, thresholds 0.5."""
    model.eval()
    out = []
    for i in range(0, len(images), 8):
        logits = model(images[i : i + 8].float() / 255)
        pred = logits > 0
        truth = masks[i : i + 8] >= 128
        inter = (pred & truth).sum(dim=(2, 3)).float()
        total = (pred.sum(dim=(2, 3)) + truth.sum(dim=(2, 3))).float()
        out.append(((2 * inter + 1e-6) / (total + 1e-6)).numpy())
    model.train()
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrays", type=Path, default=CACHE / "arrays")
    parser.add_argument("--out", type=Path, default=CACHE / "run")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--flip", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--widths", default="16,32,64,128,256")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    train_x, train_y = load_split(args.arrays, "train")
    val_x, val_y = load_split(args.arrays, "val")
    widths = tuple(int(w) for w in args.widths.split(","))
    model = UNet(widths)
    steps = args.epochs * math.ceil(len(train_x) / args.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=steps, pct_start=0.1)
    args.out.mkdir(parents=True, exist_ok=True)
    log: list[dict[str, object]] = []
    best = -1.0
    start = time.time()
    for epoch in range(args.epochs):
        order = torch.randperm(len(train_x), generator=gen)
        losses = []
        for i in range(0, len(order), args.batch):
            pick = order[i : i + args.batch]
            x, y = augment(train_x[pick], train_y[pick], args.flip, gen)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(x)
            loss = loss_fn(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        val = dice_scores(model, val_x, val_y).mean(axis=0)
        row = {
            "epoch": epoch + 1,
            "minutes": round((time.time() - start) / 60, 2),
            "loss": round(float(np.mean(losses)), 4),
            **{s: round(float(v), 4) for s, v in zip(STRUCTURES, val, strict=True)},
        }
        log.append(row)
        print(json.dumps(row), flush=True)
        if val.mean() > best:
            best = float(val.mean())
            state = {"widths": widths, "state_dict": model.state_dict(), "epoch": epoch + 1}
            torch.save(state, args.out / "best.pt")
    torch.save({"widths": widths, "state_dict": model.state_dict()}, args.out / "last.pt")
    summary = {"args": {k: str(v) for k, v in vars(args).items()}, "best_val_mean": best}
    (args.out / "log.json").write_text(json.dumps({**summary, "epochs": log}, indent=1))
    print(f"done in {(time.time() - start) / 60:.1f} min; best mean val Dice {best:.4f}")


if __name__ == "__main__":
    main()
