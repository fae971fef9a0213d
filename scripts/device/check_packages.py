"""Checks packages made from a device run the way their users read them: `evaluate`'s package loader (kind,
size, classes; generator and segmenter compatible), each ONNX file run once in onnxruntime with the shapes
the app uses, and the generators' checkpoint.pt loadable for `train --init-from`.

    PYTHONPATH=trainer python3 scripts/device/check_packages.py --segmenter SEG GENERATOR...
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from scenebrush_trainer.data.classes import CAMVID
from scenebrush_trainer.evaluation.evaluate import check_compatible, open_session, read_package
from scenebrush_trainer.training import checkpoint


def run(session, **inputs) -> list[np.ndarray]:
    return session.run(None, inputs)


def check_generator(path: Path, seg) -> str:
    gen = read_package(path, "generator")
    check_compatible(gen, seg, CAMVID)
    h, w = gen.size
    rng = np.random.default_rng(0)
    label = rng.integers(0, len(CAMVID), (1, h, w)).astype(np.int64)
    z = rng.standard_normal((1, gen.meta["z_dim"])).astype(np.float32)
    (image,) = run(open_session(gen, 1), label=label, z=z)
    assert image.shape == (1, 3, h, w) and np.isfinite(image).all(), f"{path}/model.onnx: image {image.shape}"
    notes = [f"image {tuple(image.shape)}"]
    if (path / "encoder.onnx").is_file():
        outputs = run(open_session(gen, 1, "encoder.onnx"), image=image.astype(np.float32))
        assert all(np.isfinite(o).all() for o in outputs), f"{path}/encoder.onnx: non-finite output"
        notes.append("encoder " + " ".join(str(tuple(o.shape)) for o in outputs))
    if (path / "checkpoint.pt").is_file():
        ckpt = checkpoint.load(path / "checkpoint.pt")
        assert ckpt.get("weights_only") and ckpt["G"], f"{path}/checkpoint.pt: not a fine-tune checkpoint"
        notes.append(f"checkpoint.pt step {ckpt['step']}")
    return ", ".join(notes)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--segmenter", type=Path, required=True, help="the segmenter package")
    p.add_argument("generators", type=Path, nargs="*", help="generator packages")
    args = p.parse_args(argv)
    seg = read_package(args.segmenter, "segmenter")
    h, w = seg.size
    image = np.random.default_rng(0).uniform(-1, 1, (1, 3, h, w)).astype(np.float32)
    (logits,) = run(open_session(seg, 1), image=image)
    assert logits.shape == (1, len(CAMVID), h, w), f"{args.segmenter}/model.onnx: logits {logits.shape}"
    print(f"check_packages: {args.segmenter}: segmenter, logits {tuple(logits.shape)}", file=sys.stderr)
    for path in args.generators:
        print(f"check_packages: {path}: generator, {check_generator(path, seg)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
