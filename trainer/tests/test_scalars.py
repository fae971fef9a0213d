"""Every training run writes RUN/scalars.csv (TensorBoard files when installed); a resumed run appends and never
holds a step twice."""

import csv
import importlib.util
import logging

import pytest
from conftest import read_events, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.training import scalars
from scenebrush_trainer.training.scalars import Scalars


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_run_writes_one_row_per_logged_step(tiny_data, tmp_path):
    out = tmp_path / "run"
    assert main(train_args(tiny_data, out, "--steps", "3", "--events", str(tmp_path / "e.jsonl"))) == 0
    table = rows(out / "scalars.csv")
    assert [r["step"] for r in table] == ["1", "2", "3"]
    steps = {e["step"]: e for e in read_events(tmp_path / "e.jsonl") if e["event"] == "step"}
    for r in table:
        event = steps[int(r["step"])]
        assert float(r["d_real"]) == pytest.approx(event["losses"]["d_real"])
        assert float(r["lr_g"]) == pytest.approx(event["lr_g"]) and float(r["lr_d"]) == pytest.approx(4 * event["lr_g"])
        assert float(r["images_per_s"]) == pytest.approx(event["images_per_s"])
    assert {"step", "epoch", "d_real", "d_fake", "g_gan", "g_feat", "images_per_s", "lr_g", "lr_d"} <= set(table[0])


def test_a_resumed_run_drops_the_rows_after_its_checkpoint_and_appends(tiny_data, tmp_path):
    out = tmp_path / "run"
    assert main(train_args(tiny_data, out, "--steps", "4", "--until", "2", "--events", str(tmp_path / "a.jsonl"))) == 0
    path = out / "scalars.csv"
    assert [r["step"] for r in rows(path)] == ["1", "2"]
    # a killed process had logged steps 3 and 4 (and half of 5) but checkpointed only step 2
    header = path.read_text().splitlines()[0].split(",")
    with open(path, "a") as f:
        for step in (3, 4):
            f.write(",".join(str(step) if h == "step" else "99" for h in header) + "\n")
        f.write("5,0.1,0.")
    assert main(["train", "--out", str(out), "--resume", "--events", str(tmp_path / "b.jsonl")]) == 0
    table = rows(path)
    assert [r["step"] for r in table] == ["1", "2", "3", "4"]
    resumed = {e["step"]: e for e in read_events(tmp_path / "b.jsonl") if e["event"] == "step"}
    assert all(float(r["d_real"]) == pytest.approx(resumed[int(r["step"])]["losses"]["d_real"]) for r in table[2:])
    # the same run again has nothing to do and leaves the table as it is
    assert main(["train", "--out", str(out), "--resume", "--events", str(tmp_path / "c.jsonl")]) == 0
    assert rows(path) == table


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is not None, reason="tensorboard is installed here")
def test_without_tensorboard_the_csv_is_written_and_the_skip_is_logged_once(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(scalars, "_tensorboard_note_logged", False)
    logger = logging.getLogger("scenebrush_trainer")
    monkeypatch.setattr(logger, "propagate", True)  # let caplog see it
    with caplog.at_level(logging.INFO, logger="scenebrush_trainer"):
        for run in ("a", "b"):
            s = Scalars(tmp_path / run, 0, 4.0)
            s.add(1, 0.1, {"d_real": 1.0}, 2.0, 1e-4)
            s.close()
            assert s.tb is None and (tmp_path / run / "scalars.csv").is_file()
    notes = [r for r in caplog.records if "TensorBoard event files: skipped" in r.getMessage()]
    assert len(notes) == 1 and "pip install tensorboard" in notes[0].getMessage()


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="optional tensorboard not installed")
def test_with_tensorboard_event_files_are_written(tmp_path):
    s = Scalars(tmp_path, 0, 4.0)
    s.add(1, 0.1, {"d_real": 1.0}, 2.0, 1e-4)
    s.close()
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tensorboard").iterdir())
