"""Stopping: SIGTERM checkpoints and exits 0; SIGKILL loses at most the steps since the last checkpoint."""

import os
import signal
import subprocess
import sys
import time

from conftest import TRAINER, read_events, step_losses, train_args

from scenebrush_trainer.cli import main

SLOW = ["--generator", "ccfpse", "--discriminator", "fpse", "--steps", "100000"]


def start(tiny_data, out, events, *extra):
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    args = train_args(tiny_data, out, "--events", str(events), *extra)
    return subprocess.Popen([sys.executable, "-m", "scenebrush_trainer", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for(events, predicate, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if events.exists() and any(predicate(e) for e in read_events(events)):
            return
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting in {events}")


def test_sigterm_checkpoints_reports_stopped_and_exits_0(tiny_data, tmp_path):
    events, out = tmp_path / "ev.jsonl", tmp_path / "run"
    proc = start(tiny_data, out, events, *SLOW, "--checkpoint-every", "1000")
    wait_for(events, lambda e: e["event"] == "step" and e["step"] >= 2, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    ev = read_events(events)
    assert ev[-1]["event"] == "stopped" and ev[-1]["reason"] == "SIGTERM"
    stopped_at = ev[-1]["step"]
    assert any(e["event"] == "checkpoint" and e["step"] == stopped_at for e in ev)
    # and it continues from there
    more = tmp_path / "more.jsonl"
    assert main(["train", "--out", str(out), "--resume", "--until", str(stopped_at + 1), "--events", str(more)]) == 0
    assert min(step_losses(read_events(more))) == stopped_at + 1


def test_killed_run_resumes_from_its_last_checkpoint_like_an_uninterrupted_run(tiny_data, tmp_path):
    events, out = tmp_path / "ev.jsonl", tmp_path / "run"
    proc = start(tiny_data, out, events, *SLOW, "--checkpoint-every", "2")
    wait_for(events, lambda e: e["event"] == "checkpoint" and e["step"] >= 4, proc)
    proc.kill()
    proc.wait(timeout=30)
    before = read_events(events)
    last_ckpt = max(e["step"] for e in before if e["event"] == "checkpoint")
    reached = max(step_losses(before))
    assert reached - last_ckpt < 2 + 2  # at most the steps since the last checkpoint (+ the one running)
    resumed = tmp_path / "resumed.jsonl"
    assert main(["train", "--out", str(out), "--resume", "--until", str(last_ckpt + 3), "--events", str(resumed)]) == 0
    after = step_losses(read_events(resumed))
    assert sorted(after) == [last_ckpt + 1, last_ckpt + 2, last_ckpt + 3]
    # the steps the killed run had already done come out the same again
    for s in after:
        if s in step_losses(before):
            assert after[s] == step_losses(before)[s]
    assert any(s in step_losses(before) for s in after) or reached == last_ckpt
