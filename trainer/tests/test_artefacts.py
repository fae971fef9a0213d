"""The artefact measures: stripes and per-class detail against the real photos of the same layouts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from scenebrush_trainer.evaluation.artefacts import ArtefactMeter, interior

NAMES = ["Sky", "Road", "Void"]


def scene(seed: int = 0):
    """Two images [2, 3, 64, 64] in [-1, 1]: a smooth sky over a textured road; labels 0 (top) / 1 (bottom)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((2, 3, 64, 64), np.float32)
    images[:, :, :32] = np.linspace(0.2, 0.6, 32, dtype=np.float32)[None, None, :, None]
    images[:, :, 32:] = -0.3 + 0.2 * rng.standard_normal((2, 1, 32, 64), dtype=np.float32)
    labels = np.zeros((2, 64, 64), np.int64)
    labels[:, 32:] = 1
    labels[:, 60:, :8] = 2  # a corner of void: never scored
    return images, labels


def measure(generated, real, labels):
    fake_meter, real_meter = ArtefactMeter(3), ArtefactMeter(3)
    fake_meter.add(generated, interior(labels))
    real_meter.add(real, interior(labels))
    return fake_meter.compare(real_meter, NAMES, dontcare=2)


def test_the_photos_themselves_score_one_everywhere():
    images, labels = scene()
    result = measure(images, images, labels)
    assert result["stripes"] == pytest.approx(1) and set(result["detail"]) == {"Sky", "Road"}
    assert result["detail"] == {"Sky": pytest.approx(1), "Road": pytest.approx(1)}


def test_vertical_streaks_raise_stripes_and_blur_lowers_detail():
    images, labels = scene()
    streaks = np.where(np.arange(64) % 4 < 2, 0.15, -0.15).astype(np.float32)  # constant down each column
    streaked = measure(np.clip(images + streaks, -1, 1), images, labels)
    assert streaked["stripes"] > 1.5 and streaked["detail"]["Sky"] > 2
    blurred = F.avg_pool2d(torch.from_numpy(images), 5, 1, 2, count_include_pad=False).numpy()
    result = measure(blurred, images, labels)
    assert result["detail"]["Road"] < 0.5  # the road's texture smoothed away


def test_class_edges_and_image_borders_are_not_interior():
    labels = np.zeros((1, 8, 8), np.int64)
    labels[0, 4:] = 1
    ids = interior(labels)[0]
    assert (ids[0] == -1).all() and (ids[:, 0] == -1).all() and (ids[3:5] == -1).all()
    assert (ids[1:3, 1:7] == 0).all() and (ids[5:7, 1:7] == 1).all()
