"""Nothing a user does loses work: option values the trainer cannot use are refused up front, a run folder has
one trainer at a time, `--resume` never goes behind its checkpoint, and killed runs and exports leave nothing
that piles up."""

import fcntl
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import TRAINER, read_events, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.export.from_checkpoint import export_checkpoint
from scenebrush_trainer.training import checkpoint

BAD_VALUES = [
    # (option, value, what the message says)
    ("--steps", "0", "1 or more"),
    ("--steps", "-5", "1 or more"),
    ("--batch-size", "0", "1 or more"),
    ("--checkpoint-every", "0", "1 or more"),
    ("--log-every", "0", "1 or more"),
    ("--sample-every", "-1", "0 or more"),
    ("--until", "0", "1 or more"),
    ("--threads", "0", "1 or more"),
    ("--lr-g", "0", "above 0"),
    ("--lr-d", "-1e-4", "above 0"),
    ("--lr-g", "nan", "above 0"),
    ("--ema", "1", "below 1"),
    ("--decay-from", "1.5", "at most 1"),
    ("--ms-tau", "0", "above 0"),
    ("--ms-pool", "0", "1 or more"),
    ("--lambda-l1", "-1", "0 or more"),
    ("--seed", "-1", "between 0 and"),
    ("--z-dim", "-1", "0 or more"),
    ("--ngf", "0", "1 or more"),
    ("--height", "0", "32 or more"),
    ("--batch-size", "two", "whole number"),
]


@pytest.mark.parametrize("option,value,message", BAD_VALUES, ids=[f"{o}={v}" for o, v, _ in BAD_VALUES])
def test_unusable_option_values_are_refused_before_anything_runs(tiny_data, tmp_path, capsys, option, value, message):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit:
        main(train_args(tiny_data, out, "--steps", "2", f"{option}={value}"))
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: " in err and message in err and value in err, err
    assert not out.exists()


def test_resume_never_goes_behind_its_checkpoint(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_args(tiny_data, out, "--steps", "3")) == 0
    saved = (out / "checkpoint.pt").read_bytes()
    mtime = (out / "checkpoint.pt").stat().st_mtime_ns
    capsys.readouterr()
    for option in ("--steps", "--until"):
        events = tmp_path / f"{option}.jsonl"
        assert main(["train", "--out", str(out), "--resume", option, "2", "--events", str(events)]) == 1
        err = capsys.readouterr().err
        assert f"{option} 2 is below step 3" in err and "above 3" in err, err
        assert [e["event"] for e in read_events(events)] == ["error"]  # no "finished" for a run that is not
    # the step reached: nothing to do, said so, exit 0, nothing written
    events = tmp_path / "same.jsonl"
    assert main(["train", "--out", str(out), "--resume", "--steps", "3", "--events", str(events)]) == 0
    assert "already at step 3: nothing to do" in capsys.readouterr().err
    assert (out / "checkpoint.pt").read_bytes() == saved and (out / "checkpoint.pt").stat().st_mtime_ns == mtime
    assert not any(e["event"] == "checkpoint" for e in read_events(events))


def test_a_second_trainer_on_a_run_folder_is_refused_naming_the_holder_and_a_kill_frees_it(tiny_data, tmp_path, capsys):
    out, events = tmp_path / "run", tmp_path / "ev.jsonl"
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    args = train_args(tiny_data, out, "--steps", "100000", "--checkpoint-every", "1", "--events", str(events))
    proc = subprocess.Popen([sys.executable, "-m", "scenebrush_trainer", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.time() + 120
        while not (events.exists() and any(e["event"] == "checkpoint" for e in read_events(events))):
            assert proc.poll() is None and time.time() < deadline
            time.sleep(0.05)
        capsys.readouterr()
        # without the lock each would fail fast another way (--until behind the checkpoint, a run already there)
        for second in (["train", "--out", str(out), "--resume", "--until", "1"], train_args(tiny_data, out)):
            assert main(second) == 1
            err = capsys.readouterr().err
            assert f"{out} is in use by another trainer (PID {proc.pid})" in err, err
    finally:
        proc.kill()
        proc.wait()
    # the kernel dropped the killed process's lock: no stale lock to remove by hand
    reached = checkpoint.load(out)["step"]
    assert main(["train", "--out", str(out), "--resume", "--until", str(reached + 1)]) == 0


def test_a_failed_start_leaves_no_folder_behind(tmp_path, capsys):
    out = tmp_path / "typo"
    assert main(["train", "--out", str(out), "--resume"]) == 1
    assert "no checkpoint at" in capsys.readouterr().err
    assert not out.exists()


def test_a_run_start_removes_the_temp_files_killed_runs_left_and_nothing_else(tiny_data, tmp_path):
    out = tmp_path / "run"
    assert main(train_args(tiny_data, out, "--steps", "2")) == 0
    (out / "samples").mkdir()
    stale = [out / ".checkpoint.pt.k2j_x9a1.tmp", out / "samples" / ".step_0000500.png.abcd1234.tmp"]
    others = [out / ".notes.tmp", out / "mine.tmp", out / ".checkpoint.pt.bak", out / ".other.pt.abcd1234.tmp"]
    for p in stale + others:
        p.write_bytes(b"x" * 1000)
    assert main(["train", "--out", str(out), "--resume", "--until", "3"]) == 0
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in others)


def test_an_export_replaces_a_stale_staging_folder_and_leaves_a_live_one(tiny_data, tmp_path):
    run = tmp_path / "run"
    assert main(train_args(tiny_data, run, "--steps", "1")) == 0
    models = tmp_path / "models"
    models.mkdir()
    # an export killed mid-way (this version's naming, and the one before, which had no suffix or lock)
    stale, legacy = models / ".pkg.a1b2c3d4.staging", models / ".pkg.e5f6g7h8"
    for folder in (stale, legacy):
        folder.mkdir()
        (folder / "model.onnx").write_bytes(b"x" * 1000)
    not_ours = models / ".pkg.notes123"  # the old naming, but holding files an export does not write
    not_ours.mkdir()
    (not_ours / "todo.txt").write_text("mine")
    live = models / ".pkg.live1234.staging"  # another export at work: it holds the folder's lock
    live.mkdir()
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        export_checkpoint(run / "checkpoint.pt", models / "pkg", "pkg")
        assert (models / "pkg" / "model.json").exists()
        assert not stale.exists() and not legacy.exists()
        assert live.exists() and not_ours.exists()
    finally:
        os.close(fd)
    export_checkpoint(run / "checkpoint.pt", models / "pkg", "pkg")  # now nobody holds it
    assert sorted(p.name for p in models.iterdir()) == [".pkg.notes123", "pkg"]


def test_an_export_killed_mid_way_is_cleaned_by_the_next(tiny_data, tmp_path):
    """For real: an export process killed while its staging folder exists."""
    run, pkg = tmp_path / "run", tmp_path / "models" / "pkg"
    assert main(train_args(tiny_data, run, "--steps", "1")) == 0
    script = (
        "import os, signal, sys\n"
        "import scenebrush_trainer.export.package as package\n"
        "real = package.export_generator\n"
        "def export(*a, **k):\n"
        "    real(*a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "package.export_generator = export\n"
        "from scenebrush_trainer.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    cmd = [sys.executable, "-c", script, "export", "--checkpoint", str(run), "--out", str(pkg)]
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=120).returncode == -signal.SIGKILL
    left = [p.name for p in pkg.parent.iterdir()]
    assert len(left) == 1 and left[0].startswith(".pkg.") and left[0].endswith(".staging"), left
    assert main(["export", "--checkpoint", str(run), "--out", str(pkg)]) == 0
    assert [p.name for p in pkg.parent.iterdir()] == ["pkg"]


OTHER_COMMANDS = [
    ("evaluate", "--batch-size", "0"),
    ("evaluate", "--threads", "0"),
    ("evaluate", "--seeds", "-1"),
    ("samples", "--count", "0"),
    ("ablation", "--steps", "0"),
    ("recover-weights", "--images", "0"),
    ("info", "--height", "0"),
]


@pytest.mark.parametrize("command,option,value", OTHER_COMMANDS, ids=[f"{c} {o}={v}" for c, o, v in OTHER_COMMANDS])
def test_other_commands_refuse_unusable_counts_too(capsys, command, option, value):
    with pytest.raises(SystemExit) as exit:
        main([command, f"{option}={value}"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be" in err and value in err, err
