"""Export a trained checkpoint to ONNX (opset 17) and check that ONNX Runtime, on one thread,
gives what PyTorch gives.

The check runs both on the validation and test films of the cache and on random inputs:
the largest absolute difference of the logits must stay under 1e-3, and the thresholded masks
must agree on all but a handful of pixels at the 0.5 boundary. The graph carries its metadata
(structures, input size, data sources) in ``metadata_props``.

Usage: python training/anatomy/export.py [--checkpoint ~/.cache/radqc-anatomy/run/best.pt]
           [--out service/engines/rules/data/anatomy.onnx]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import STRUCTURES, UNet
from train import CACHE, load_split

REPO = Path(__file__).resolve().parents[2]
SIZE = 256
METADATA = {
    "structures": ",".join(STRUCTURES),
    "input": "1x1x256x256 float32, dense tissue bright, histogram-equalised to 0..1",
    "output": "logits 1x5x256x256, one sigmoid per structure",
    "data": "JSRT (research and education use) with SCR masks (van Ginneken et al. 2006)",
    "model_card": "training/anatomy/README.md",
}


def export(checkpoint: Path, out: Path) -> UNet:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = UNet(tuple(state["widths"]))
    model.load_state_dict(state["state_dict"])
    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, SIZE, SIZE),),
        str(out),
        opset_version=17,
        input_names=["image"],
        output_names=["logits"],
        do_constant_folding=True,
        dynamo=False,
    )
    graph = onnx.load(str(out))
    onnx.checker.check_model(graph)
    for key, value in {**METADATA, "epoch": str(state.get("epoch", ""))}.items():
        entry = graph.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(graph, str(out))
    return model


def verify(model: UNet, path: Path, arrays: Path) -> dict[str, float]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    films = torch.cat([load_split(arrays, "val")[0], load_split(arrays, "test")[0]]).float() / 255
    gen = torch.Generator().manual_seed(0)
    inputs = torch.cat([films, torch.rand(4, 1, SIZE, SIZE, generator=gen)])
    worst, disagree, pixels = 0.0, 0, 0
    with torch.no_grad():
        for x in inputs:
            expected = model(x[None]).numpy()
            got = session.run(None, {"image": x[None].numpy()})[0]
            worst = max(worst, float(np.abs(expected - got).max()))
            disagree += int(((expected > 0) != (got > 0)).sum())
            pixels += expected.size
    return {
        "inputs": len(inputs),
        "max_abs_diff": worst,
        "mask_pixels_differing": disagree,
        "mask_pixels": pixels,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=CACHE / "run/best.pt")
    parser.add_argument("--arrays", type=Path, default=CACHE / "arrays")
    parser.add_argument(
        "--out", type=Path, default=REPO / "service/engines/rules/data/anatomy.onnx"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = export(args.checkpoint, args.out)
    report = verify(model, args.out, args.arrays)
    data = args.out.read_bytes()
    report |= {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    print(json.dumps(report, indent=1))
    if (
        report["max_abs_diff"] > 1e-3
        or report["mask_pixels_differing"] > 1e-5 * report["mask_pixels"]
    ):
        raise SystemExit("ONNX Runtime disagrees with PyTorch")


if __name__ == "__main__":
    main()
