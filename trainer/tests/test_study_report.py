"""The study report from partial results: the table holds what exists and names what is missing; the
mean +- 2 SE rule; the generated block of docs/ablation.md is replaced, not repeated."""

import json
from dataclasses import replace

import numpy as np
from PIL import Image

from scenebrush_trainer.data.presets import dataset_spec
from scenebrush_trainer.evaluation.fixtures import tiny_camvid
from scenebrush_trainer.evaluation.study_plan import BUDGETS, ordered_runs
from scenebrush_trainer.evaluation.study_report import BLOCK_BEGIN, BLOCK_END, write_report
from scenebrush_trainer.evaluation.study_score import samples_path, score_path
from scenebrush_trainer.evaluation.study_stats import separated, stat
from scenebrush_trainer.evaluation.study_train import RUN_JSON, run_dir

BUDGET = replace(BUDGETS["smoke"], height=64, width=64, sizes=(2,), seeds=(0, 1, 2), beyond=(),
                 combos=(("spade", "fp"), ("ccfpse", "fp")), curve_images=3)  # fmt: skip


def fake_run(work, run, miou: float, finished: bool = True, stripes: float = 1.0, cpu: float = 3600.0) -> None:
    """What a trained and scored run leaves: run.json, one score per snapshot, sample strips."""
    out = run_dir(work, run)
    out.mkdir(parents=True)
    record = {"name": run.name, "finished": finished, "cpu_seconds": cpu, "segments": [{"code": "abc"}]}
    (out / RUN_JSON).write_text(json.dumps(record))
    for step in BUDGET.snapshot_steps()[: None if finished else -1]:
        curve = {"miou": miou * step / BUDGET.steps, "kid": 0.1 / step, "fid": 100.0, "real_miou": 0.5}
        entry = {"step": step, "curve": curve}
        if step == BUDGET.steps:
            entry["final"] = {**curve, "miou": miou, "artefacts": {"stripes": stripes, "detail": {}}}
        score_path(out, step).parent.mkdir(exist_ok=True)
        score_path(out, step).write_text(json.dumps(entry))
        Image.fromarray(np.full((64, 64 * 3, 3), 90, np.uint8)).save(samples_path(out, step))


def test_a_partial_study_reports_what_exists_and_names_the_missing_runs(tmp_path):
    val = dataset_spec("camvid", str(tiny_camvid(tmp_path / "camvid", 1, 4, 64, 64, real=False)), "val")
    runs = ordered_runs(BUDGET)  # spade s0, ccfpse s0, spade s1, ccfpse s1, spade s2, ccfpse s2
    for run, miou, stripes in zip(runs[:4], (0.30, 0.10, 0.31, 0.11), (1.2, 0.9, 1.4, 1.1)):
        fake_run(tmp_path / "work", run, miou, stripes=stripes)
    fake_run(tmp_path / "work", runs[4], 0.5, finished=False)  # training: snapshots, no last step yet
    md = tmp_path / "ablation.md"
    md.write_text("# Ablation\n\nolder text\n")
    summary = write_report(BUDGET, tmp_path / "work", tmp_path / "report", val, md)

    readme = (tmp_path / "report" / "README.md").read_text()
    assert "4 of 6 runs finished" in readme
    assert f"`{runs[4].name}`: training" in readme and f"`{runs[5].name}`: not started" in readme
    row = next(line for line in readme.splitlines() if line.startswith("| SPADE + FP |"))
    # the unfinished run's scores are not in the table: the mean over seeds 0 and 1 only
    assert "| 2/3 |" in row and "0.305 ± 0.007 (2)" in row and "| 1.30 ± 0.14 (2) |" in row  # stripes
    assert "SPADE + FP minus CC-FPSE + FP = +0.200 (**exceeds the seed spread**" in readme
    for name in ("curves-miou.png", "curves-kid.png", "samples.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert [r["status"] for r in results["runs"]][4:] == ["training", "not started"]
    assert results["runs"][0]["seed"] == 0 and results["runs"][0]["cpu_seconds"] == 3600.0
    assert len(summary["runs"]) == 6

    # run again: the block in ablation.md is replaced, the rest kept
    write_report(BUDGET, tmp_path / "work", tmp_path / "report", val, md)
    text = md.read_text()
    assert text.count(BLOCK_BEGIN) == 1 and text.count(BLOCK_END) == 1 and "older text" in text
    assert text.index(BLOCK_BEGIN) < text.index("older text") and "](report/curves-miou.png)" in text
    # the short form lists only the differences that exceed the spread; the full report lists every one
    assert "SPADE + FP minus CC-FPSE + FP = +0.200 (**exceeds" in text and "(within the seed spread;" not in text
    assert "are within the seed spread (the full report lists every one)" in text
    assert "(within the seed spread;" in readme


def test_the_two_se_rule():
    a, b = stat([0.30, 0.31, 0.29]), stat([0.10, 0.12, 0.11])
    assert separated(a, b) is True
    assert separated(stat([0.30, 0.10, 0.50]), stat([0.31, 0.12, 0.40])) is False
    assert separated(stat([0.3]), b) is None  # one seed has no spread to compare with
    assert abs(a.se - a.sd / np.sqrt(3)) < 1e-12 and stat([]).mean is None


def test_the_late_window_averages_each_finished_runs_late_curve_points(tmp_path):
    from scenebrush_trainer.evaluation.study_report import late_steps

    val = dataset_spec("camvid", str(tiny_camvid(tmp_path / "camvid", 1, 4, 64, 64, real=False)), "val")
    runs = ordered_runs(BUDGET)
    for run, miou in zip(runs[:4], (0.30, 0.10, 0.50, 0.12)):
        fake_run(tmp_path / "work", run, miou)
    fake_run(tmp_path / "work", runs[4], 0.9, finished=False)  # its late points must not count
    summary = write_report(BUDGET, tmp_path / "work", tmp_path / "report", val)

    late = late_steps(BUDGET)
    assert late and late[-1] == BUDGET.steps and all(s >= 0.6 * BUDGET.steps for s in late)
    # fake_run's curve is miou * step / steps: the late mean of a run is miou * mean(late) / steps
    factor = sum(late) / len(late) / BUDGET.steps
    spade = next(c for c in summary["cells"] if c["cell"].startswith("spade"))
    assert spade["miou_late"]["n"] == 2
    assert abs(spade["miou_late"]["mean"] - 0.40 * factor) < 1e-9
    readme = (tmp_path / "report" / "README.md").read_text()
    assert f"mean of steps {late[0]}-{late[-1]}" in readme
    assert "late mIoU: SPADE + FP minus CC-FPSE + FP" in readme


def test_equal_cpu_time_reads_a_dearer_cell_where_its_run_had_cost_the_cheapest_cells_whole_run(tmp_path):
    val = dataset_spec("camvid", str(tiny_camvid(tmp_path / "camvid", 1, 4, 64, 64, real=False)), "val")
    runs = ordered_runs(BUDGET)  # spade s0, ccfpse s0, spade s1, ccfpse s1, ...
    for run, miou in zip(runs[:4], (0.20, 0.60, 0.22, 0.62)):
        fake_run(tmp_path / "work", run, miou, cpu=3600.0 if run.cell.generator == "spade" else 7200.0)
    summary = write_report(BUDGET, tmp_path / "work", tmp_path / "report", val)

    rows = {r["cell"]: r for r in summary["equal_cpu"]}
    spade = next(v for k, v in rows.items() if k.startswith("spade"))
    ccfpse = next(v for k, v in rows.items() if k.startswith("ccfpse"))
    assert spade["cpu_hours"] == ccfpse["cpu_hours"] == 1.0  # the cheaper cell's CPU time
    # CC-FPSE is read at half its steps, where fake_run's curve (miou * step / steps) is half its last value
    assert ccfpse["step"]["mean"] == BUDGET.steps / 2 and spade["step"]["mean"] == BUDGET.steps
    assert abs(ccfpse["miou"]["mean"] - 0.61 / 2) < 1e-9 and abs(spade["miou"]["mean"] - 0.21) < 1e-9
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "At equal CPU time" in readme
    # at the last step CC-FPSE leads by 0.40; at equal CPU time by 0.095, still beyond the spread
    assert "mIoU: SPADE + FP minus CC-FPSE + FP = -0.095" in readme
