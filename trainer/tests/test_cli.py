"""The command line: subcommands, `info`, `check`, and events on stdout."""

import json
import os
import subprocess
import sys

from conftest import TRAINER, data_args, train_args

from scenebrush_trainer.cli import COMMANDS, main


def test_help_lists_every_command():
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    out = subprocess.run(
        [sys.executable, "-m", "scenebrush_trainer", "--help"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0
    for module in COMMANDS:
        assert module.NAME in out.stdout


def test_info_prints_parameters_and_macs(capsys):
    assert main(["info", "--preset", "small", "--height", "192", "--width", "256"]) == 0
    out = capsys.readouterr().out
    for name in (
        "generator spade",
        "generator ccfpse",
        "discriminator patchgan",
        "discriminator fpse",
        "discriminator oasis",
    ):
        assert name in out
    assert "--diffaug off or a comma-separated list of color, translation, cutout" in out
    assert "published" not in out


def test_info_compares_the_paper_preset_with_the_published_sizes(capsys):
    assert main(["info", "--preset", "paper", "--height", "256", "--width", "256", "--dataset", "coco_stuff"]) == 0
    out = capsys.readouterr().out
    assert "published ~97M" in out and "published ~456G" in out


def test_check_command_on_good_data(tiny_data, capsys):
    assert main(["check", *data_args(tiny_data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["pairs"] == 4 and report["problems"] == []


def test_events_go_to_stdout_and_logs_to_stderr(tiny_data, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(TRAINER)}
    args = train_args(tiny_data, tmp_path / "run", "--steps", "2")
    out = subprocess.run([sys.executable, "-m", "scenebrush_trainer", *args], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["event"] for e in events] == ["check", "start", "step", "step", "checkpoint", "finished"]
    step = events[2]
    assert {"step", "steps", "losses", "images_per_s", "eta_s", "time"} <= set(step)
    assert "VGG perceptual loss: off" in out.stderr


def test_bad_arguments_give_a_clear_error(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--preset", "tiny", "--height", "50"]) == 1
    assert "multiples of 32" in capsys.readouterr().err
