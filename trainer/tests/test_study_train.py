"""The study runner: nested subsets, training in segments with snapshots, resuming after an interruption without
retraining, runners sharing a work folder through the runs' locks, cells the trainer cannot train yet."""

import json
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from conftest import read_events

from scenebrush_trainer.data.presets import dataset_spec
from scenebrush_trainer.evaluation import study_train
from scenebrush_trainer.evaluation.fixtures import tiny_camvid
from scenebrush_trainer.evaluation.study_plan import (
    BUDGETS,
    BeyondLine,
    Cell,
    Run,
    find_cell,
    ordered_runs,
)
from scenebrush_trainer.evaluation.study_train import LOCK, run_dir, run_study, snapshot_path
from scenebrush_trainer.evaluation.subsets import SubsetError, nested_subset, subset_names

# two runs of two segments each, at the smallest size the networks take
BUDGET = replace(BUDGETS["smoke"], height=64, width=64, sizes=(2, 4), seeds=(0,), beyond=(),
                 combos=(("spade", "fp"),), log_every=1)  # fmt: skip


@pytest.fixture(scope="module")
def camvid_tiny(tmp_path_factory):
    return tiny_camvid(tmp_path_factory.mktemp("camvid"), train=6, val=2, height=64, width=64, real=False)


@pytest.fixture
def train_spec(camvid_tiny):
    return dataset_spec("camvid", str(camvid_tiny), "train")


def test_subsets_are_nested_seeded_and_made_once(train_spec, tmp_path):
    small, large = subset_names(train_spec, 2, 0), subset_names(train_spec, 4, 0)
    assert large[:2] == small and len(set(large)) == 4
    assert subset_names(train_spec, 4, 1) != large  # another permutation seed, another subset
    spec = nested_subset(train_spec, 4, 0, tmp_path)
    assert sorted(p.name for p in spec.photos.iterdir()) == sorted(large)
    assert sorted(p.name for p in spec.labels.iterdir()) == sorted(large)
    before = (spec.photos.parent / "subset.json").stat().st_mtime_ns
    assert nested_subset(train_spec, 4, 0, tmp_path) == spec  # found, not rebuilt
    assert (spec.photos.parent / "subset.json").stat().st_mtime_ns == before
    assert nested_subset(train_spec, 6, 0, tmp_path) == train_spec  # all of it: the split itself
    with pytest.raises(SubsetError, match=r"size 7 is more than the 6 pairs"):
        nested_subset(train_spec, 7, 0, tmp_path)
    (tmp_path / "subset-2-seed0").mkdir()
    (tmp_path / "subset-2-seed0" / "subset.json").write_text(json.dumps({"size": 2, "seed": 5}))
    with pytest.raises(SubsetError, match=r"subset-2-seed0 holds another subset"):
        nested_subset(train_spec, 2, 0, tmp_path)


def test_the_plan_trains_every_cell_of_the_largest_size_seed_by_seed_then_the_smaller_sizes():
    budget = BUDGETS["study-96x128"]
    runs = ordered_runs(budget)
    assert len(runs) == 4 * 3 * 3 + 3 * 3 and len({r.name for r in runs}) == len(runs)
    first_wave = runs[:7]  # one run of each of the 4 seed cells and the 3 beyond cells, all at 367, seed 0
    assert {r.seed for r in first_wave} == {0} and {r.cell.size for r in first_wave} == {367}
    assert {r.cell.group for r in first_wave} == {"seed", "beyond"} and len({r.cell for r in first_wave}) == 7
    assert [r.cell.generator for r in first_wave] == ["spade"] * 5 + ["ccfpse"] * 2  # the cheaper runs first
    assert [r.seed for r in runs[:21]] == [0] * 7 + [1] * 7 + [2] * 7
    assert [r.cell.size for r in runs[21:33]] == [100] * 12 and [r.cell.size for r in runs[33:]] == [200] * 12
    assert budget.snapshot_steps() == [500, 1000, 1500, 2000, 2500]
    with pytest.raises(ValueError, match=r"unknown cell 'spade-xx-367'.*spade-fp-100"):
        find_cell(budget, "spade-xx-367")


class Interrupt(BaseException):
    """Stands for a kill: not an Exception, so nothing on the way catches it."""


def test_an_interrupted_study_resumes_every_run_without_retraining(train_spec, tmp_path, monkeypatch):
    real_train, calls = study_train.train, []

    def train_then_die(opts, events):
        calls.append((opts.out.name, opts.until))
        result = real_train(opts, events)
        if len(calls) == 3:  # killed after the first segment of the second run: its snapshot is not written yet
            raise Interrupt
        return result

    monkeypatch.setattr(study_train, "train", train_then_die)
    with pytest.raises(Interrupt):
        run_study(BUDGET, train_spec, tmp_path)
    first, second = (run_dir(tmp_path, r) for r in ordered_runs(BUDGET))
    assert calls == [(first.name, 2), (first.name, 4), (second.name, 2)]
    kept = {s: snapshot_path(first, s).read_bytes() for s in (2, 4)}
    assert not snapshot_path(second, 2).exists()

    calls.clear()
    monkeypatch.setattr(study_train, "train", lambda opts, events: calls.append((opts.out.name, opts.until))
                        or real_train(opts, events))  # fmt: skip
    counts = run_study(BUDGET, train_spec, tmp_path)
    assert calls == [(second.name, 4)]  # the finished run untouched, the other from its checkpoint at step 2
    assert counts["trained"] == 1 and counts["finished_before"] == 1
    assert {s: snapshot_path(first, s).read_bytes() for s in (2, 4)} == kept
    assert snapshot_path(second, 2).exists() and snapshot_path(second, 4).exists()  # the lost copy made up
    starts = [e["step"] for e in read_events(second / "events.jsonl") if e["event"] == "start"]
    assert starts == [0, 2]
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in results["runs"]] == [first.name, second.name] and results["not_started"] == []
    assert all(r["finished"] and r["cpu_seconds"] > 0 and r["machine"]["cores"] >= 1 for r in results["runs"])
    assert results["runs"][1]["seed"] == 0 and results["runs"][1]["images"] == 2

    calls.clear()
    assert run_study(BUDGET, train_spec, tmp_path)["finished_before"] == 2 and calls == []


def test_a_runner_skips_a_run_another_process_holds(train_spec, tmp_path):
    first, second = ordered_runs(BUDGET)
    lock = run_dir(tmp_path, first) / LOCK
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a+')\n"
         "fcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)", str(lock)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        counts = run_study(BUDGET, train_spec, tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert counts["locked"] == 1 and counts["trained"] == 1
    assert not (run_dir(tmp_path, first) / "checkpoint.pt").exists()
    assert snapshot_path(run_dir(tmp_path, second), 4).exists()
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["not_started"] == [first.name]
    # the holder gone (however it ended), the next runner takes the run
    t0 = time.time()
    assert run_study(BUDGET, train_spec, tmp_path)["trained"] == 1 and time.time() - t0 < 60


def test_a_cell_the_trainer_cannot_train_yet_is_skipped_with_its_reason(train_spec, tmp_path, caplog, monkeypatch):
    budget = replace(BUDGET, sizes=(2,), combos=(), beyond=(BeyondLine("spade", "nosuch"),
                     BeyondLine("spade", "fp", (("nosuch_option", 1),), tag="x")))  # fmt: skip
    monkeypatch.setattr(study_train.log, "propagate", True)
    with caplog.at_level("INFO", logger="scenebrush_trainer"):
        counts = run_study(budget, train_spec, tmp_path)
    assert counts["skipped"] == 2 and counts["trained"] == 0
    text = caplog.text
    assert "skipping cell spade-nosuch-2: discriminator 'nosuch' is not in this trainer yet" in text
    assert "skipping cell spade-fp-x-2: training option 'nosuch_option' is not in this trainer yet" in text
    assert Run(Cell("spade", "fp", 2), 1).name == "spade-fp-2-s1"


def test_bad_input_is_refused_with_the_value_and_what_to_do(tmp_path, capsys):
    from scenebrush_trainer.cli import main

    assert main(["study", "plan", "--budget", "smoke", "--work", str(tmp_path), "--cells", "spade-xx-4"]) == 1
    assert "unknown cell 'spade-xx-4' in budget smoke; its cells are: spade-fp-2" in capsys.readouterr().err
    args = ["study", "train", "--budget", "smoke", "--work", str(tmp_path), "--data", str(tmp_path / "nope")]
    assert main(args) == 1
    assert f"no CamVid training photos at {tmp_path / 'nope' / 'train'}: give the CamVid root with --data" in (
        capsys.readouterr().err
    )
    assert main(["study", "plan", "--budget", "smoke", "--work", str(tmp_path), "--cells", "ccfpse-fp-4"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in listed] == ["ccfpse-fp-4-s0", "ccfpse-fp-4-s1"]


def recording_train(monkeypatch, calls):
    real = study_train.train
    monkeypatch.setattr(study_train, "train", lambda opts, events: calls.append((opts.out.name, opts.until))
                        or real(opts, events))  # fmt: skip


def test_finished_runs_are_carried_to_another_machine_without_checkpoints(train_spec, tmp_path, monkeypatch):
    first, second = ordered_runs(BUDGET)
    run_study(BUDGET, train_spec, tmp_path / "a", only=(first.cell.name,))
    src = run_dir(tmp_path / "a", first)
    (src / "scores").mkdir()
    (src / "scores" / "step-000004.json").write_text(json.dumps({"step": 4, "curve": {"miou": 0.25}}))
    (src / "scores" / "step-000004-samples.png").write_bytes(b"png")
    # finished, step 2 not scored yet: not carried (elsewhere its snapshots would be gone, its curve never whole)
    counts = study_train.carry_runs(BUDGET, tmp_path / "a", tmp_path / "state")
    assert counts == {"carried": 0, "already_there": 0, "unfinished": 0, "unscored": 1}
    assert not (tmp_path / "state" / "results.json").exists()
    (src / "scores" / "step-000002.json").write_text(json.dumps({"step": 2, "curve": {"miou": 0.125}}))
    started = run_dir(tmp_path / "a", second)  # started elsewhere, not finished: its checkpoint is what it needs
    started.mkdir(parents=True)
    (started / "run.json").write_text(json.dumps({"name": second.name, "finished": False, "segments": []}))

    counts = study_train.carry_runs(BUDGET, tmp_path / "a", tmp_path / "state")
    assert counts == {"carried": 1, "already_there": 0, "unfinished": 1, "unscored": 0}
    carried = sorted(
        str(p.relative_to(tmp_path / "state"))
        for p in (tmp_path / "state").rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )  # locks aside
    assert carried == ["results.json", *(f"runs/{first.name}/{f}" for f in
                       ("run.json", "scores/step-000002.json", "scores/step-000004-samples.png",
                        "scores/step-000004.json"))]  # fmt: skip
    assert study_train.carry_runs(BUDGET, tmp_path / "a", tmp_path / "state")["already_there"] == 1

    # a fresh machine: the carried folder copied back; the finished run is not trained again, the other one is
    assert study_train.carry_runs(BUDGET, tmp_path / "state", tmp_path / "b")["carried"] == 1
    calls = []
    recording_train(monkeypatch, calls)
    counts = run_study(BUDGET, train_spec, tmp_path / "b")
    assert counts["finished_before"] == 1 and counts["trained"] == 1
    assert calls == [(second.name, 2), (second.name, 4)]
    assert json.loads((run_dir(tmp_path / "b", first) / "scores" / "step-000004.json").read_text())["step"] == 4


def test_a_started_run_whose_checkpoint_is_gone_trains_again_from_step_0(train_spec, tmp_path, monkeypatch):
    first = ordered_runs(BUDGET)[0]
    real_train, calls = study_train.train, []

    def first_segment_only(opts, events):
        calls.append(opts.until)
        real_train(opts, events)
        raise Interrupt

    monkeypatch.setattr(study_train, "train", first_segment_only)
    with pytest.raises(Interrupt):
        run_study(BUDGET, train_spec, tmp_path, only=(first.cell.name,))
    out = run_dir(tmp_path, first)
    study_train.write_snapshot(out, 2)
    # the first segment's record as another machine wrote it, and a score of its snapshot; no checkpoint here
    (out / "run.json").write_text(json.dumps({"name": first.name, "finished": False, "cpu_seconds": 99.0,
                                              "wall_seconds": 99.0, "segments": [{"from": 0, "to": 2}]}))  # fmt: skip
    (out / "scores").mkdir()
    (out / "scores" / "step-000002.json").write_text("{}")
    (out / "checkpoint.pt").unlink()

    monkeypatch.setattr(study_train, "train", real_train)
    recording_train(monkeypatch, calls := [])
    assert run_study(BUDGET, train_spec, tmp_path, only=(first.cell.name,))["trained"] == 1
    assert calls == [(first.name, 2), (first.name, 4)]
    rec = json.loads((out / "run.json").read_text())
    assert rec["finished"] and [s["from"] for s in rec["segments"]] == [0, 2] and rec["cpu_seconds"] < 99
    assert not (out / "scores" / "step-000002.json").exists()
    assert [p.name for p in out.glob("scores-before-restart-*/step-000002.json")] == ["step-000002.json"]
