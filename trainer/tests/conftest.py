"""Shared fixtures: a tiny synthetic dataset (the same on every machine), and a few real CamVid pairs for the
tests about CamVid."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

TRAINER = Path(__file__).resolve().parents[1]
REPO = TRAINER.parent
sys.path.insert(0, str(TRAINER))

from scenebrush_trainer.data.classes import CAMVID  # noqa: E402

SIZE = 64
torch.set_num_threads(2)


def camvid_root() -> Path:
    return Path(os.environ.get("SCENEBRUSH_CAMVID") or REPO / ".." / "shared" / "data" / "camvid")


def write_pairs(root: Path, count: int = 4, size: int = SIZE) -> Path:
    """photos/, labels/ and classes.json with `count` synthetic pairs at size x size: the same on every machine
    (tests about CamVid itself use write_camvid_pairs)."""
    photos, labels = root / "photos", root / "labels"
    photos.mkdir(parents=True)
    labels.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):  # street-like layouts with CamVid's classes and matching colours
        lab = np.zeros((size, size), np.uint8)
        lab[size // 3 :] = 1
        lab[2 * size // 3 :] = 3
        lab[rng.integers(0, size // 2) :, rng.integers(0, size // 2) : size // 2 + 8] = 8
        lab[-4:, :4] = 11
        photo = np.array(CAMVID.colors, np.uint8)[lab] + rng.integers(0, 40, (size, size, 3), dtype=np.uint8)
        Image.fromarray(photo).save(photos / f"img{i}.png")
        Image.fromarray(lab).save(labels / f"img{i}.png")
    (root / "classes.json").write_text(json.dumps(CAMVID.file_json()))
    return root


def write_camvid_pairs(root: Path, count: int = 4, size: int = SIZE) -> Path:
    """Like write_pairs, with the first `count` real CamVid training pairs downscaled; skips the test (visibly,
    with the reason) where CamVid is not there."""
    source = camvid_root()
    names = sorted((source / "train").glob("*.png"))[:count]
    if len(names) < count:
        pytest.skip(f"CamVid not found at {source} (set SCENEBRUSH_CAMVID to its folder to run this test)")
    photos, labels = root / "photos", root / "labels"
    photos.mkdir(parents=True)
    labels.mkdir()
    for p in names:
        Image.open(p).convert("RGB").resize((size, size), Image.BILINEAR).save(photos / p.name)
        lab = Image.open(source / "trainannot" / p.name).resize((size, size), Image.NEAREST)
        lab.save(labels / p.name)
    (root / "classes.json").write_text(json.dumps(CAMVID.file_json()))
    return root


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("data"))


def data_args(root: Path) -> list[str]:
    return ["--photos", str(root / "photos"), "--labels", str(root / "labels"), "--classes", str(root / "classes.json")]


def train_args(root: Path, out: Path, *extra: str) -> list[str]:
    """A tiny run: 64x64, tiny widths, a step per event."""
    return [
        "train", *data_args(root), "--out", str(out), "--preset", "tiny", "--height", str(SIZE), "--width", str(SIZE),
        "--log-every", "1", "--sample-every", "0", "--threads", "2", *extra,
    ]  # fmt: skip


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def step_losses(events: list[dict]) -> dict[int, dict]:
    return {e["step"]: e["losses"] for e in events if e["event"] == "step"}
