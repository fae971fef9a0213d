"""The study's scoring phase: every snapshot scored once (curve points; the last step also the table's numbers),
cached, and skipped while another scorer holds it; a snapshot scores as the exported package would."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from scenebrush_trainer.data.presets import dataset_spec
from scenebrush_trainer.evaluation import study_score
from scenebrush_trainer.evaluation.evaluate import EvalOptions, evaluate
from scenebrush_trainer.evaluation.fixtures import tiny_camvid, untrained_segmenter
from scenebrush_trainer.evaluation.study_plan import BUDGETS, ordered_runs
from scenebrush_trainer.evaluation.study_score import (
    curve_indices,
    read_scores,
    samples_path,
    score_path,
    score_study,
    snapshot_generator,
)
from scenebrush_trainer.evaluation.study_train import run_dir, run_study, snapshot_path
from scenebrush_trainer.export.from_checkpoint import export_checkpoint

# one run of two segments at 64x64, scored by a 128x128 segmenter: below its size, as the study is
BUDGET = replace(BUDGETS["smoke"], height=64, width=64, sizes=(3,), seeds=(0,), beyond=(), combos=(("spade", "fp"),),
                 curve_images=3, final_images=4, final_seeds=(0, 1))  # fmt: skip


class PooledPixels:
    """Stands for the Inception network (seconds a call on a CPU): 4x4 block means as features. FID and KID have
    their own tests; here only the plumbing counts."""

    def __call__(self, images):
        return torch.nn.functional.adaptive_avg_pool2d(images.float(), 4).flatten(1).double().numpy()


@pytest.fixture(autouse=True)
def no_inception(monkeypatch):
    monkeypatch.setattr(study_score, "InceptionFeatures", PooledPixels)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    data = tiny_camvid(root / "camvid", train=3, val=4, height=64, width=64, real=False)
    work = root / "work"
    run_study(BUDGET, dataset_spec("camvid", str(data), "train"), work)
    seg = untrained_segmenter(root / "seg", 128, 128, seed=3, spread=True)
    return work, seg, dataset_spec("camvid", str(data), "val")


def test_every_snapshot_is_scored_once_and_the_last_also_for_the_table(study):
    work, seg, val = study
    counts = score_study(BUDGET, work, seg, val)
    assert counts["scored"] == 2 and counts["cached"] == 0
    out = run_dir(work, ordered_runs(BUDGET)[0])
    scores = read_scores(out)
    assert sorted(scores) == [2, 4] and "final" not in scores[2]
    curve, final = scores[4]["curve"], scores[4]["final"]
    assert curve["images"] == 3 and curve["seeds"] == [0] and curve["kid"] is not None and curve["fid"] is not None
    assert final["images"] == 4 and final["generated"] == 8 and final["seed_diversity"] is not None
    assert curve["resolution"] == [64, 64] and curve["segmenter_resolution"] == [128, 128]
    assert curve["artefacts"]["stripes"] > 0 and set(final["artefacts"]["detail"]) == set(curve["per_class_iou"])
    assert scores[4]["sample_layouts"] == [0, 2, 3] or len(scores[4]["sample_layouts"]) <= 4
    assert samples_path(out, 4).stat().st_size > 0
    before = score_path(out, 2).read_bytes()
    assert score_study(BUDGET, work, seg, val) == {
        "scored": 0,
        "cached": 2,
        "locked": 0,
        "seconds": 0.0,
        "cpu_seconds": 0.0,
    }
    assert score_path(out, 2).read_bytes() == before
    # scores made with other scoring settings are made again, with the new ones
    fewer = replace(BUDGET, curve_images=2)
    assert score_study(fewer, work, seg, val)["scored"] == 2
    assert read_scores(out)[2]["curve"]["images"] == 2 and read_scores(out)[2]["scoring"]["curve_images"] == 2
    assert score_study(BUDGET, work, seg, val)["scored"] == 2


def test_a_snapshot_another_scorer_holds_is_skipped(study, tmp_path):
    work, seg, val = study
    out = run_dir(work, ordered_runs(BUDGET)[0])
    score_path(out, 2).unlink()
    lock = score_path(out, 2).parent / ".step-000002.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a+')\n"
         "fcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        counts = score_study(replace(BUDGET), work, seg, val)
    finally:
        holder.kill()
        holder.wait()
    assert counts["locked"] == 1 and not score_path(out, 2).exists()


def test_a_snapshot_scores_as_its_exported_package(study, tmp_path):
    work, seg, val = study
    out = run_dir(work, ordered_runs(BUDGET)[0])
    pkg = export_checkpoint(out / "checkpoint.pt", tmp_path / "pkg", "pkg")["path"]
    opts = EvalOptions(seeds=(0, 1), fid=False)
    from_snapshot = evaluate(snapshot_generator(snapshot_path(out, 4)), seg, val, opts)
    from_package = evaluate(pkg, seg, val, opts)
    for key in ("miou", "pixel_accuracy", "seed_diversity"):
        assert from_snapshot[key] == pytest.approx(from_package[key], abs=1e-3), key


def test_curve_pairs_are_spread_over_the_split():
    assert curve_indices(60, 101) == tuple(np.linspace(0, 100, 60).round().astype(int).tolist())
    assert curve_indices(5, 3) == (0, 1, 2)
    assert json.dumps(curve_indices(2, 10)) == "[0, 9]"
