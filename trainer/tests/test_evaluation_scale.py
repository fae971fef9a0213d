"""Scoring a generator below the segmenter's size (docs/evaluation.md): labels at the generator's size in, images
upscaled to the segmenter's size, real photos down and up the same way; at the segmenter's size nothing changes."""

from pathlib import Path

import numpy as np
import pytest
import torch

from scenebrush_trainer.data.dataset import PairedDataset, to_model_range
from scenebrush_trainer.data.presets import dataset_spec
from scenebrush_trainer.evaluation.evaluate import (
    EvalOptions,
    EvaluationError,
    Package,
    check_compatible,
    evaluate,
    open_session,
    read_package,
    segment,
    select_pairs,
    synthesize,
    to_size,
)
from scenebrush_trainer.evaluation.fixtures import tiny_camvid, untrained_segmenter
from scenebrush_trainer.evaluation.metrics import ConfusionMeter

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "models"

# Scores of the untrained 192x256 fixture generators with the code before below-size scoring existed (commit
# 0ece409), on this suite's synthetic val pairs and segmenter: a package at the segmenter's size must keep them.
BEFORE = {
    "spade": {"miou": 0.02722772354901871, "pixel_accuracy": 0.11297737396784006, "fid": 292.28176513108536,
              "seed_diversity": 0.024148525670170784},
    "ccfpse": {"miou": 0.030212042808439237, "pixel_accuracy": 0.11336443394176444, "fid": 294.61445521568606,
               "seed_diversity": 0.006708896718919277},
}  # fmt: skip
REAL_BEFORE = {"real_miou": 0.027389973422645816, "real_pixel_accuracy": 0.1133067144719687}


@pytest.fixture(scope="module")
def val_96x128(tmp_path_factory):
    root = tiny_camvid(tmp_path_factory.mktemp("camvid"), train=1, val=3, height=96, width=128, real=False)
    return dataset_spec("camvid", str(root), "val")


@pytest.mark.parametrize("generator", ["spade", "ccfpse"])
def test_a_package_at_the_segmenters_size_scores_as_before(generator, val_96x128, tmp_path):
    seg = untrained_segmenter(tmp_path / "seg", 192, 256, seed=0, spread=True)
    fid = generator == "spade"  # the FID path is the same for both; once keeps the test short
    report = evaluate(FIXTURES / f"fixture-{generator}-untrained", seg, val_96x128, EvalOptions(seeds=(0, 1), fid=fid))
    # Exactly what scoring without any resizing gives on this machine (the code before below-size scoring)...
    fake, real = scores_without_resizing(FIXTURES / f"fixture-{generator}-untrained", seg, val_96x128, (0, 1))
    assert (report["miou"], report["pixel_accuracy"]) == (fake.miou, fake.pixel_accuracy)
    assert (report["segmenter"]["real_miou"], report["segmenter"]["real_pixel_accuracy"]) == (
        real.miou, real.pixel_accuracy)  # fmt: skip
    # ... and near the numbers that code gave on the machine they were recorded on (an Intel Xeon with AVX-512):
    # each pixel is the argmax of an untrained segmenter's near-tied logits, and another CPU's SIMD kernels flip a
    # few (an AMD EPYC with AVX2: mIoU 2e-5 relative for SPADE, 2e-3 for CC-FPSE). A change of path (resizing,
    # other labels) moves them by far more.
    for key, value in BEFORE[generator].items():
        if key != "fid" or fid:
            assert report[key] == pytest.approx(value, rel=1e-2), key
    for key, value in REAL_BEFORE.items():
        assert report["segmenter"][key] == pytest.approx(value, rel=1e-2), key
    assert report["upscale"] is None and report["segmenter_resolution"] == [192, 256]


def scores_without_resizing(gen_dir, seg_dir, spec, seeds, batch_size=4, threads=2):
    """The scoring loop as it was before below-size scoring: everything at the generator's (= segmenter's) size,
    with evaluate's batch size and threads, so that the same machine gives the same pixels."""
    gen, seg = read_package(gen_dir, "generator"), read_package(seg_dir, "segmenter")
    open_session(gen, threads)
    open_session(seg, threads)
    data = PairedDataset(spec, select_pairs(spec, EvalOptions()), *gen.size)
    data.preload()
    fake, real = (ConfusionMeter(len(spec.classes), spec.classes.dontcare) for _ in range(2))
    for i in range(0, len(data), batch_size):
        photos, labels = data.batch(torch.arange(i, min(i + batch_size, len(data))))
        real.add(labels.numpy(), segment(seg, to_model_range(photos).numpy()))
        for seed in seeds:
            fake.add(labels.numpy(), segment(seg, synthesize(gen, labels, seed, i)))
    return fake.scores(), real.scores()


class PhotoSession:
    """A 'generator' that returns the real photo (at the generator's size) of each label map it is given."""

    def __init__(self, data: PairedDataset):
        self.photos, self.labels = to_model_range(data.photos).numpy(), data.labels.numpy()

    def run(self, _names, feed):
        index = [next(i for i, lab in enumerate(self.labels) if np.array_equal(lab, x)) for x in feed["label"]]
        return [self.photos[index]]


def photo_generator(spec, seg_meta: dict, height: int, width: int) -> Package:
    data = PairedDataset(spec, select_pairs(spec, EvalOptions()), height, width)
    data.preload()
    meta = {**seg_meta, "kind": "generator", "height": height, "width": width, "z_dim": 0, "id": "photos"}
    return Package(Path("photos"), meta, PhotoSession(data))


def test_below_the_segmenters_size_real_and_generated_take_the_same_path(val_96x128, tmp_path):
    seg = untrained_segmenter(tmp_path / "seg43", 48, 64, seed=1, spread=True)
    gen = photo_generator(val_96x128, read_package(seg, "segmenter").meta, 24, 32)
    report = evaluate(gen, seg, val_96x128, EvalOptions(fid=False, batch_size=2))
    # a generator that draws the real photo scores exactly what the real photos score: one path for both
    assert report["miou"] == report["segmenter"]["real_miou"]
    assert report["pixel_accuracy"] == report["segmenter"]["real_pixel_accuracy"]
    assert report["resolution"] == [24, 32] and report["segmenter_resolution"] == [48, 64]
    assert report["upscale"].startswith("bilinear")
    # and the label maps were compared at the segmenter's size: scores differ from those at the generator's size
    native = evaluate(gen, untrained_segmenter(tmp_path / "seg-small", 24, 32, 1, True), val_96x128,
                      EvalOptions(fid=False))  # fmt: skip
    assert native["upscale"] is None and native["segmenter"]["real_miou"] != report["segmenter"]["real_miou"]


def test_a_package_larger_than_the_segmenter_or_of_another_shape_is_refused(tmp_path):
    seg = read_package(untrained_segmenter(tmp_path / "seg", 48, 64), "segmenter")
    classes = dataset_spec("camvid", str(tmp_path), "val").classes
    for h, w in ((96, 128), (48, 48), (32, 64)):
        gen = Package(tmp_path / f"gen-{h}x{w}", {**seg.meta, "kind": "generator", "height": h, "width": w})
        with pytest.raises(EvaluationError, match=rf"gen-{h}x{w} makes {w}x{h} images .* takes 64x48"):
            check_compatible(gen, seg, classes)
    check_compatible(Package(tmp_path / "g", {**seg.meta, "height": 24, "width": 32}), seg, classes)


def test_upscaling_is_plain_bilinear_and_identity_at_the_same_size():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 4, 6)).astype(np.float32)
    assert to_size(x, (4, 6)) is x
    up = to_size(x, (8, 12))
    assert up.shape == (2, 3, 8, 12) and up.dtype == np.float32
    # half-pixel centres: output pixel 1 sits at input coordinate 0.25, between input pixels 0 and 1
    np.testing.assert_allclose(up[:, :, 0, 1], 0.75 * x[:, :, 0, 0] + 0.25 * x[:, :, 0, 1], rtol=1e-6)
    flat = np.full((1, 3, 4, 6), 0.3, np.float32)
    np.testing.assert_allclose(to_size(flat, (8, 12)), 0.3, rtol=1e-6)
