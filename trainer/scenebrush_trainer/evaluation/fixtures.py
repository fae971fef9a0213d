"""Tiny inputs for the evaluation's tests: a CamVid-layout folder of a few small pairs, an untrained segmenter."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.classes import CAMVID
from ..data.presets import shared_data
from ..networks.segmenter import ENet
from .segmenter_export import segmenter_json, write_segmenter_package


def tiny_camvid(root: Path, train: int = 4, val: int = 2, height: int = 64, width: int = 64) -> Path:
    """root/{train,trainannot,val,valannot}: real CamVid pairs downscaled when CamVid is there, else synthetic."""
    source = shared_data("SCENEBRUSH_CAMVID", "camvid", None)
    rng = np.random.default_rng(0)
    for split, count in (("train", train), ("val", val)):
        photos, labels = root / split, root / f"{split}annot"
        photos.mkdir(parents=True)
        labels.mkdir()
        names = sorted((source / split).glob("*.png"))[:count] if (source / split).is_dir() else []
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


def untrained_segmenter(out: Path, height: int = 64, width: int = 64, seed: int = 0) -> Path:
    """An ENet with random weights (fixed seed) as a segmenter package: real ONNX, meaningless scores."""
    torch.manual_seed(seed)
    net = ENet(len(CAMVID), height, width).eval()
    cfg = {"architecture": "enet", "width_mult": 1, "height": height, "width": width, "epochs": 0, "seed": seed,
           "max_images": 0}  # fmt: skip
    ckpt = {"config": cfg, "classes": CAMVID.file_json(), "best": {}, "epoch": 0, "train_images": 0}
    meta = segmenter_json(Path(out).name, ckpt, None)
    meta["license"] = "No training data: random weights from a fixed seed, for tests only."
    write_segmenter_package(net, out, meta)
    return Path(out)
