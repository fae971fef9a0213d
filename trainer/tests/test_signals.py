"""Interrupting a run: TERM, HUP and INT checkpoint and exit 0; KILL (even mid-checkpoint-write) loses at most
the steps since the last checkpoint. After each the run resumes, its checkpoint loads, and no temp files stay.

The step at which a signal is sent is random: SCENEBRUSH_TEST_SEED=N repeats a failure's choice (its message
says N)."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager

import pytest
from conftest import TRAINER, read_events, step_losses, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.training import checkpoint

SLOW = ["--generator", "ccfpse", "--discriminator", "fpse", "--steps", "100000"]
SEED = int(os.environ.get("SCENEBRUSH_TEST_SEED") or random.SystemRandom().randrange(2**31))


@contextmanager
def reproducible(what: str):
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{e}\n({what}; SCENEBRUSH_TEST_SEED={SEED} repeats it)") from e


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def no_trainer_outlives_its_test():
    """A failing test must not leave its 100000-step trainer running (one did, for 11 minutes, on 2 cores)."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def start(tiny_data, out, events, *extra, script=None):
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    args = train_args(tiny_data, out, "--events", str(events), *extra)
    cmd = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "scenebrush_trainer", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _started.append(proc)
    return proc


def wait_for(events, predicate, proc, timeout=300):
    # a hang guard, not a speed check: under load 6-8 on 2 cores a tiny run took over 120 s to reach step 7
    deadline = time.time() + timeout
    while time.time() < deadline:
        if events.exists() and any(predicate(e) for e in read_events(events)):
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting in {events}")


def temp_files(out):
    return sorted(p.relative_to(out) for p in out.rglob(".*.tmp"))


def resume_until(out, until, events):
    # the threads of train_args: the process-wide count an earlier test left (train-segmenter sets 1) would change
    # the float reduction order, and the redone steps must be bit-identical
    args = ["train", "--out", str(out), "--resume", "--until", str(until), "--events", str(events), "--threads", "2"]
    assert main(args) == 0
    return read_events(events)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_stop_signal_at_a_random_step_checkpoints_there_and_the_run_resumes(tiny_data, tmp_path, sig):
    events, out = tmp_path / "ev.jsonl", tmp_path / "run"
    at = random.Random(f"{SEED}/{sig.name}").randint(1, 6)
    with reproducible(f"{sig.name} after step {at}"):
        proc = start(tiny_data, out, events, *SLOW, "--checkpoint-every", "1000")
        wait_for(events, lambda e: e["event"] == "step" and e["step"] >= at, proc)
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        ev = read_events(events)
        assert ev[-1]["event"] == "stopped" and ev[-1]["reason"] == sig.name
        stopped_at = ev[-1]["step"]
        assert stopped_at >= at and max(step_losses(ev)) == stopped_at  # the step in progress was finished
        # long before the first periodic checkpoint (1000), the stop wrote one at the step reached
        assert any(e["event"] == "checkpoint" and e["step"] == stopped_at for e in ev)
        assert checkpoint.load(out)["step"] == stopped_at
        assert temp_files(out) == []
        more = resume_until(out, stopped_at + 1, tmp_path / "more.jsonl")
        assert sorted(step_losses(more)) == [stopped_at + 1]


def test_stop_signal_before_the_first_step_still_leaves_a_resumable_checkpoint(tiny_data, tmp_path):
    """A stop while the data loads (the `check` event comes before it) gets one step and a checkpoint at step 1:
    a run folder without a checkpoint could neither be resumed nor reused (a new run refuses nothing there, but
    the app shows the run as started)."""
    events, out = tmp_path / "ev.jsonl", tmp_path / "run"
    proc = start(tiny_data, out, events, *SLOW, "--checkpoint-every", "1000")
    wait_for(events, lambda e: e["event"] == "check", proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    ev = read_events(events)
    assert ev[-1]["event"] == "stopped" and 1 <= ev[-1]["step"] < 1000
    assert checkpoint.load(out)["step"] == ev[-1]["step"]


def test_killed_run_resumes_from_its_last_checkpoint_like_an_uninterrupted_run(tiny_data, tmp_path):
    events, out = tmp_path / "ev.jsonl", tmp_path / "run"
    every = 5
    # a step after the checkpoint at 5 and before the next: the kill lands before step 10 (each step takes
    # 0.07 s or more, the kill follows the step event within ~0.03 s), so there are steps to compare
    at = random.Random(f"{SEED}/KILL").randint(every + 1, every + 3)
    with reproducible(f"SIGKILL after step {at}"):
        proc = start(tiny_data, out, events, *SLOW, "--checkpoint-every", str(every))
        wait_for(events, lambda e: e["event"] == "step" and e["step"] >= at, proc)
        proc.kill()
        proc.wait(timeout=30)
        before = step_losses(read_events(events))
        last_ckpt = checkpoint.load(out)["step"]  # it loads: nothing is corrupt
        reached = max(before)
        assert last_ckpt == every and reached > last_ckpt
        assert reached - last_ckpt <= every  # lost at most one checkpoint interval
        after = step_losses(resume_until(out, reached + 1, tmp_path / "resumed.jsonl"))
        assert sorted(after) == list(range(last_ckpt + 1, reached + 2))
        assert temp_files(out) == []
        # the steps the killed run had already done come out the same again: at least one to compare
        redone = sorted(set(after) & set(before))
        assert redone and all(after[s] == before[s] for s in redone), redone


# the trainer, with torch.save killing the process after writing part of its second checkpoint
KILL_MID_WRITE = textwrap.dedent("""
    import os, signal, sys, torch
    from scenebrush_trainer.cli import main
    real_save, calls = torch.save, []
    def save(obj, path):
        calls.append(path)
        if len(calls) < 2:
            return real_save(obj, path)
        with open(path, "wb") as f:
            f.write(b"PK" + b"x" * 100000)
        os.kill(os.getpid(), signal.SIGKILL)
    torch.save = save
    sys.exit(main(sys.argv[1:]))
""")


def test_kill_during_a_checkpoint_write_leaves_the_previous_checkpoint_and_resume_cleans_up(tiny_data, tmp_path):
    events, out = tmp_path / "ev.jsonl", tmp_path / "run"
    proc = start(tiny_data, out, events, *SLOW, "--checkpoint-every", "2", script=KILL_MID_WRITE)
    assert proc.wait(timeout=300) == -signal.SIGKILL, proc.stderr.read()
    ev = read_events(events)
    assert [e["step"] for e in ev if e["event"] == "checkpoint"] == [2] and max(step_losses(ev)) == 4
    left = temp_files(out)
    assert len(left) == 1 and left[0].name.startswith(".checkpoint.pt.")  # the half-written file
    assert checkpoint.load(out)["step"] == 2  # the rename never happened: the previous checkpoint is intact
    resumed = resume_until(out, 3, tmp_path / "resumed.jsonl")
    assert sorted(step_losses(resumed)) == [3]
    assert temp_files(out) == []
