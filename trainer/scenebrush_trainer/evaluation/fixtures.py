"""Tiny inputs for tests: a CamVid-layout folder of a few small pairs, untrained segmenters.

`python -m scenebrush_trainer.evaluation.fixtures --out tests/fixtures/models` (scripts/make_fixtures.sh) writes
the app's segmenter fixture package with a reference photo and the labels PyTorch predicts for it."""

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..data.classes import CAMVID
from ..data.presets import shared_data
from ..export.segmenter import segmenter_json, write_segmenter_package
from ..networks.segmenter import ENet


def tiny_camvid(root: Path, train: int = 4, val: int = 2, height: int = 64, width: int = 64, real: bool = True) -> Path:
    """root/{train,trainannot,val,valannot}: real CamVid pairs downscaled when CamVid is there (and `real`), else
    synthetic ones (what tests use, so that they check the same thing on every machine)."""
    source = shared_data("SCENEBRUSH_CAMVID", "camvid", None)
    rng = np.random.default_rng(0)
    for split, count in (("train", train), ("val", val)):
        photos, labels = root / split, root / f"{split}annot"
        photos.mkdir(parents=True)
        labels.mkdir()
        names = sorted((source / split).glob("*.png"))[:count] if real and (source / split).is_dir() else []
        if len(names) == count:
            for p in names:
                Image.open(p).convert("RGB").resize((width, height), Image.BILINEAR).save(photos / p.name)
                lab = Image.open(source / f"{split}annot" / p.name).resize((width, height), Image.NEAREST)
                lab.save(labels / p.name)
            continue
        for i in range(count):
            lab = np.zeros((height, width), np.uint8)
            lab[height // 3 :] = 1
            lab[2 * height // 3 :] = 3
            lab[rng.integers(height // 3, height // 2) :, rng.integers(0, width // 2) : width // 2 + 8] = 8
            lab[-4:, :4] = 11
            photo = np.array(CAMVID.colors, np.uint8)[lab] + rng.integers(0, 40, (height, width, 3), dtype=np.uint8)
            Image.fromarray(photo).save(photos / f"{split}{i}.png")
            Image.fromarray(lab).save(labels / f"{split}{i}.png")
    return root


def untrained_segmenter(out: Path, height: int = 64, width: int = 64, seed: int = 0, spread: bool = False) -> Path:
    """An ENet with random weights (fixed seed) as a segmenter package: real ONNX, meaningless scores. `spread`:
    a narrow ENet whose predictions vary over a picture (see spread_weights), so that scores differ between
    inputs."""
    torch.manual_seed(seed)
    width_mult = 0.25 if spread else 1
    net = ENet(len(CAMVID), height, width, width_mult=width_mult).eval()
    if spread:
        spread_weights(net)
    cfg = {"architecture": "enet", "width_mult": width_mult, "height": height, "width": width, "epochs": 0,
           "seed": seed, "max_images": 0}  # fmt: skip
    ckpt = {"config": cfg, "classes": CAMVID.file_json(), "best": {}, "epoch": 0, "train_images": 0}
    meta = segmenter_json(Path(out).name, ckpt, None)
    meta["license"] = "No training data: random weights from a fixed seed, for tests only."
    write_segmenter_package(net, out, meta)
    return Path(out)


FIXTURE_ID = "fixture-segmenter-untrained"
FIXTURE_SIZE = (48, 64)  # 4:3 like the generator fixtures (192x256), so its label maps fit their canvas
FIXTURE_SEED = 4321


def spread_weights(net: nn.Module) -> nn.Module:
    """Random weights whose argmax varies over a picture (default init predicts one class nearly everywhere)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_normal_(m.weight, gain=1.0)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.5)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net


def reference_photo(height: int, width: int) -> np.ndarray:
    """A street-like RGB picture: class colours of a simple layout plus fixed noise."""
    lab = np.zeros((height, width), np.uint8)
    lab[height // 3 :] = 1
    lab[int(height * 0.6) :] = 3
    lab[height // 2 : int(height * 0.8), width // 5 : width // 2] = 8
    noise = np.random.default_rng(FIXTURE_SEED).integers(0, 40, (height, width, 3))
    return np.clip(np.array(CAMVID.colors, np.int64)[lab] + noise, 0, 255).astype(np.uint8)


def predict_labels(net: nn.Module, photo: np.ndarray, dontcare: int | None) -> np.ndarray:
    """Class ids PyTorch predicts for an RGB uint8 photo at the net's size; the don't-care class is never chosen."""
    image = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    with torch.no_grad():
        logits = net.eval()(image)
    if dontcare is not None:
        logits[:, dontcare] = -float("inf")
    return logits.argmax(1)[0].numpy().astype(np.uint8)


def fixture_segmenter(out_dir: Path) -> Path:
    """tests/fixtures/models/fixture-segmenter-untrained: a narrow ENet with random weights and a reference."""
    height, width = FIXTURE_SIZE
    torch.manual_seed(FIXTURE_SEED)
    net = spread_weights(ENet(len(CAMVID), height, width, width_mult=0.25)).eval()
    cfg = {"architecture": "enet", "width_mult": 0.25, "height": height, "width": width, "epochs": 0,
           "seed": FIXTURE_SEED, "max_images": 0}  # fmt: skip
    ckpt = {"config": cfg, "classes": CAMVID.file_json(), "best": {}, "epoch": 0, "train_images": 0}
    meta = segmenter_json(FIXTURE_ID, ckpt, None)
    meta["name"] = "ENet segmenter (untrained test fixture)"
    meta["training"].update(dataset="none (untrained, random weights)", images=0)
    meta["license"] = "No training data: random weights from a fixed seed, for tests only."
    pkg = Path(out_dir) / FIXTURE_ID
    write_segmenter_package(net, pkg, meta)
    photo = reference_photo(height, width)
    Image.fromarray(photo, mode="RGB").save(pkg / "reference_photo.png")
    labels = predict_labels(net, photo, CAMVID.dontcare)
    Image.fromarray(labels, mode="L").save(pkg / "reference_labels.png")
    return pkg


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/models"))
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    pkg = fixture_segmenter(args.out)
    sizes = ", ".join(f"{f.name} {f.stat().st_size // 1024} KiB" for f in sorted(pkg.iterdir()))
    print(f"wrote {pkg}: {sizes}")


if __name__ == "__main__":
    main()
