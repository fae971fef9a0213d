"""A training run carried to another machine (float16, no optimiser state) and resumed there at its step."""

import csv

import pytest
import torch
from conftest import read_events, step_losses, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.export.finetune import write_finetune_checkpoint
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.carry import CarryError, carry_run


def scalar_steps(folder):
    with open(folder / "scalars.csv", newline="") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


@pytest.fixture(scope="module")
def stopped_run(tiny_data, tmp_path_factory):
    """A run of 8 steps with EMA and a style encoder, stopped at step 4."""
    out = tmp_path_factory.mktemp("carry") / "run"
    args = train_args(tiny_data, out, "--steps", "8", "--until", "4", "--ema", "0.9", "--encoder")
    assert main(args) == 0
    return out


def test_a_carried_run_is_small_and_resumes_at_its_step(stopped_run, tmp_path):
    full = checkpoint.load(stopped_run)
    assert main(["carry", str(stopped_run), "--to", str(tmp_path / "carried")]) == 0
    carried = checkpoint.load(tmp_path / "carried")
    assert carried["carried"] and carried["step"] == 4 and "opt_g" not in carried and carried["ema"] is None
    for part, source in (("G", "ema"), ("D", "D"), ("E", "E")):  # G is the EMA: what an export would ship
        assert all(v.dtype == torch.float16 for v in carried[part].values() if v.is_floating_point()), part
        assert all(torch.equal(carried[part][k], full[source][k].half()) for k in full[source]), part
    size = (tmp_path / "carried" / "checkpoint.pt").stat().st_size
    assert size * 3 < (stopped_run / "checkpoint.pt").stat().st_size
    assert scalar_steps(tmp_path / "carried") == [1, 2, 3, 4]

    # back onto a "fresh machine": the run continues at step 5 on its schedule, its scalars extended
    assert main(["carry", str(tmp_path / "carried"), "--to", str(tmp_path / "back")]) == 0
    events = tmp_path / "resumed.jsonl"
    assert main(["train", "--out", str(tmp_path / "back"), "--resume", "--events", str(events)]) == 0
    ev = read_events(events)
    assert next(e for e in ev if e["event"] == "start")["step"] == 4
    assert sorted(step_losses(ev)) == [5, 6, 7, 8] and ev[-1]["event"] == "finished"
    assert scalar_steps(tmp_path / "back") == list(range(1, 9))
    resumed = checkpoint.load(tmp_path / "back")
    assert resumed["step"] == 8 and "opt_g" in resumed and not resumed.get("carried")


def test_carrying_never_goes_back_and_never_overwrites_another_run(stopped_run, tiny_data, tmp_path):
    # the destination is already further (the run went on after the carry): refused, file untouched
    assert main(["carry", str(stopped_run), "--to", str(tmp_path / "carried")]) == 0
    target = stopped_run / "checkpoint.pt"
    before = target.read_bytes()
    with pytest.raises(CarryError, match=r"already holds this run at step 4 .* left as it was"):
        carry_run(tmp_path / "carried", stopped_run)
    assert target.read_bytes() == before

    other = tmp_path / "other"
    assert main(train_args(tiny_data, other, "--steps", "2", "--generator", "ccfpse")) == 0
    with pytest.raises(CarryError, match=r"holds another run"):
        carry_run(stopped_run, other)

    write_finetune_checkpoint(checkpoint.load(stopped_run / "checkpoint.pt"), tmp_path / "package")
    with pytest.raises(CarryError, match=r"fine-tuning weights, not a training run"):
        carry_run(tmp_path / "package", tmp_path / "elsewhere")
    assert main(["carry", str(tmp_path / "nothing-here"), "--to", str(tmp_path / "x")]) == 1
    assert not (tmp_path / "x" / "checkpoint.pt").exists()
