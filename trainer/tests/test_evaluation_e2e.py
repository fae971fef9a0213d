"""`evaluate` and `ablation` end to end on a tiny CamVid-layout folder, with real ONNX packages (untrained)."""

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import read_events

from scenebrush_trainer.cli import main
from scenebrush_trainer.data.presets import dataset_spec
from scenebrush_trainer.evaluation.ablation import BUDGETS, COMBINATIONS, AblationOptions, run_ablation, train_run
from scenebrush_trainer.evaluation.fixtures import tiny_camvid, untrained_segmenter

SIZE = 64


@pytest.fixture(scope="module")
def camvid_tiny(tmp_path_factory):
    return tiny_camvid(tmp_path_factory.mktemp("camvid"), train=4, val=3, height=SIZE, width=SIZE, real=False)


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory):
    return untrained_segmenter(tmp_path_factory.mktemp("seg") / "tiny-segmenter", SIZE, SIZE)


@pytest.fixture(scope="module")
def generator(tmp_path_factory, camvid_tiny):
    root = tmp_path_factory.mktemp("gen")
    pkg, events = root / "tiny-spade", root / "events.jsonl"
    args = ["train", "--dataset", "camvid", "--data", str(camvid_tiny), "--preset", "tiny", "--height", str(SIZE),
            "--width", str(SIZE), "--steps", "1", "--sample-every", "0", "--threads", "2", "--out", str(root / "run"),
            "--events", str(events), "--export-to", str(pkg)]  # fmt: skip
    assert main(args) == 0, read_events(events)[-1]
    return pkg


def test_evaluate_scores_a_package_and_writes_its_metrics(camvid_tiny, segmenter, generator, tmp_path, capsys):
    report_path = tmp_path / "report.json"
    args = ["evaluate", "--package", str(generator), "--segmenter", str(segmenter), "--data", str(camvid_tiny),
            "--seeds", "0", "1", "--threads", "2", "--report", str(report_path)]  # fmt: skip
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    report = json.loads(report_path.read_text())
    assert printed["miou"] == report["miou"] and printed["report"] == str(report_path)
    assert report["data"]["images"] == 3 and report["generated"] == 6 and report["resolution"] == [SIZE, SIZE]
    ious = report["per_class_iou"]
    assert len(ious) == 11 and "Void" not in ious  # void is don't care, never scored
    present = [v for v in ious.values() if v is not None]
    assert report["miou"] == pytest.approx(np.mean(present))
    assert 0 <= report["pixel_accuracy"] <= 1 and 0 <= report["segmenter"]["real_pixel_accuracy"] <= 1
    assert report["fid"] is not None and report["fid"] >= 0
    metrics = json.loads((generator / "model.json").read_text())["metrics"]
    assert metrics["miou"] == pytest.approx(report["miou"]) and metrics["fid"] == pytest.approx(report["fid"])
    assert 0 < report["seed_diversity"] < 1 and metrics["seed_diversity"] == pytest.approx(report["seed_diversity"])
    assert report["kid"] is not None and printed["kid"] == report["kid"]
    assert metrics["kid"] == pytest.approx(report["kid"])
    assert report["kid_se"] is None  # 3 real photos: halves of 1 have no within-set pairs


def test_seed_diversity_is_zero_for_a_repeated_seed_and_absent_for_one(camvid_tiny, segmenter, generator, tmp_path):
    common = ["evaluate", "--package", str(generator), "--segmenter", str(segmenter), "--data", str(camvid_tiny),
              "--no-fid", "--no-write", "--threads", "2"]  # fmt: skip
    assert main([*common, "--seeds", "3", "3", "--report", str(tmp_path / "same.json")]) == 0
    assert json.loads((tmp_path / "same.json").read_text())["seed_diversity"] == 0
    assert main([*common, "--seeds", "3", "--report", str(tmp_path / "one.json")]) == 0
    assert json.loads((tmp_path / "one.json").read_text())["seed_diversity"] is None


def test_evaluate_refuses_a_segmenter_of_other_classes(camvid_tiny, segmenter, generator, tmp_path, capsys):
    other = tmp_path / "other-seg"
    other.mkdir()
    meta = json.loads((segmenter / "model.json").read_text())
    meta["classes"] = meta["classes"][:5]
    (other / "model.json").write_text(json.dumps(meta))
    (other / "model.onnx").write_bytes((segmenter / "model.onnx").read_bytes())
    args = ["evaluate", "--package", str(generator), "--segmenter", str(other), "--data", str(camvid_tiny),
            "--no-fid", "--no-write"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err
    assert str(other) in err and "classes" in err


def test_ablation_with_a_two_step_budget_writes_a_complete_report(camvid_tiny, segmenter, tmp_path):
    budget = replace(BUDGETS["smoke"], eval_images=2)
    opts = AblationOptions(
        budget=budget,
        train=dataset_spec("camvid", str(camvid_tiny), "train"),
        val=dataset_spec("camvid", str(camvid_tiny), "val"),
        segmenter=segmenter,
        out=tmp_path / "report",
        work=tmp_path / "work",
        sizes=(2,),  # a seeded subset of the 4 train pairs; one size keeps the test short
    )
    summary = run_ablation(opts)
    names = {f"{g}-{d}-2" for g, d in COMBINATIONS}
    assert {r["name"] for r in summary["runs"]} == names and len(names) == 5
    assert len(list((opts.work / "data" / "subset-2-seed0" / "photos").iterdir())) == 2  # the study's nested subsets
    table = [line for line in (opts.out / "README.md").read_text().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 5  # header + one row per run
    assert all("n/a" not in row for row in table[1:]), table  # every cell measured
    results = json.loads((opts.out / "results.json").read_text())
    assert all(r["g_params"] > 0 and r["train_seconds"] > 0 and r["fid"] is not None for r in results["runs"])
    for name in ("miou.png", "samples.png"):
        assert (opts.out / name).stat().st_size > 0
    # a finished run is not trained again when the ablation is run again
    gen, disc = COMBINATIONS[0]
    timing = opts.work / "runs" / f"{gen}-{disc}-2" / "train_time.json"
    before = timing.read_text()
    again = train_run(f"{gen}-{disc}-2", gen, disc, opts.train, budget, (SIZE, SIZE), opts.work)
    assert timing.read_text() == before and again["train_seconds"] == json.loads(before)["seconds"]


def test_samples_grid_has_a_column_per_package_and_a_row_per_layout(camvid_tiny, generator, tmp_path):
    out = tmp_path / "grid.png"
    args = ["samples", "--packages", str(generator), str(generator), "--data", str(camvid_tiny), "--count", "2",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    from PIL import Image

    grid = np.asarray(Image.open(out).convert("RGB"))
    assert grid.shape == (18 + 2 * SIZE + 4, 4 * SIZE + 3 * 4, 3)  # label, 2 packages, photo; 2 layouts
    a, b = grid[18 : 18 + SIZE, SIZE + 4 : 2 * SIZE + 4], grid[18 : 18 + SIZE, 2 * SIZE + 8 : 3 * SIZE + 8]
    assert np.array_equal(a, b)  # the same package and seed give the same image
    assert not np.array_equal(a, grid[18 : 18 + SIZE, :SIZE])


def test_samples_grid_with_seeds_has_a_column_per_package_and_seed(camvid_tiny, generator, tmp_path):
    out = tmp_path / "styles.png"
    args = ["samples", "--packages", str(generator), "--data", str(camvid_tiny), "--count", "2", "--seeds", "0", "1",
            "0", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    from PIL import Image

    grid = np.asarray(Image.open(out).convert("RGB"))
    assert grid.shape == (18 + 2 * SIZE + 4, 5 * SIZE + 4 * 4, 3)  # label, seeds 0, 1, 0, photo
    tile = [grid[18 : 18 + SIZE, c * (SIZE + 4) : c * (SIZE + 4) + SIZE] for c in range(5)]
    assert np.array_equal(tile[1], tile[3]) and not np.array_equal(tile[1], tile[2])  # z follows the seed
