"""`train --compile`: the option reaches the configuration, and compiling happens in place, so checkpoints and export
see the plain modules' weights. Compiling itself takes minutes on a CPU, so its numerics and speed are measured by
trainer/benchmarks/compile_speed.py, not here."""

import pytest
import torch
from conftest import read_events, train_args

from scenebrush_trainer.cli import main, parser
from scenebrush_trainer.commands.train import options
from scenebrush_trainer.training import compiling, distributed
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.setup import build_nets


def test_the_compile_option_reaches_the_run_options(tmp_path):
    base = ["train", "--dataset", "camvid", "--out", str(tmp_path / "run"), "--preset", "tiny"]
    assert options(parser().parse_args(base)).compile == "auto"
    assert options(parser().parse_args([*base, "--compile"])).compile == "on"
    assert options(parser().parse_args([*base, "--compile", "off"])).compile == "off"


def test_auto_compiles_only_what_is_left_of_a_long_run():
    # 192x256, batch 1: the threshold in steps; a quarter of the pixels needs four times the steps
    assert compiling.choose("auto", compiling.AUTO_IMAGES, 1, 192, 256).compile
    assert not compiling.choose("auto", compiling.AUTO_IMAGES - 1, 1, 192, 256).compile
    assert not compiling.choose("auto", 2500, 1, 96, 128).compile  # a study run stays eager
    assert compiling.choose("auto", compiling.AUTO_IMAGES // 8, 8, 192, 256).compile
    assert not compiling.choose("auto", -5, 1, 192, 256).compile  # already past the end
    assert compiling.choose("on", 1, 1, 32, 32).compile and not compiling.choose("off", 10**9, 64, 512, 512).compile
    with pytest.raises(ValueError, match="--compile 'sometimes'"):
        compiling.choose("sometimes", 1, 1, 32, 32)
    # under bf16 compiling does not pay (1.05x measured): a long bf16 run stays eager unless told to compile
    long_bf16 = compiling.choose("auto", 10 * compiling.AUTO_IMAGES, 1, 192, 256, amp="bf16")
    assert not long_bf16.compile and "bf16" in long_bf16.reason
    assert compiling.choose("on", 1, 1, 32, 32, amp="bf16").compile


def test_a_short_run_with_the_default_trains_eager(tmp_path, tiny_data):
    main(train_args(tiny_data, tmp_path / "run", "--steps", "2", "--events", str(tmp_path / "events.jsonl")))
    events = read_events(tmp_path / "events.jsonl")
    start = next(e for e in events if e["event"] == "start")
    assert start["train"]["compile"] is False and not any(e["event"] == "compile" for e in events)


def test_compiled_nets_keep_the_plain_modules_weights_and_the_ema_stays_plain():
    model = model_config("tiny", height=64, width=64)
    nets = {}
    for compiled in (False, True):
        torch.manual_seed(0)
        nets[compiled], ema = build_nets(model, train_config(compile=compiled, ema=0.99), 12, distributed.setup("cpu"))
    plain, compiled = nets[False], nets[True]
    for a, b in ((plain.G, compiled.G), (plain.D, compiled.D)):
        assert list(a.state_dict()) == list(b.state_dict())  # no "_orig_mod." prefix
        assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert compiled.G._compiled_call_impl is not None and compiled.D._compiled_call_impl is not None
    assert plain.G._compiled_call_impl is None
    assert ema.model._compiled_call_impl is None  # the EMA copy is made before compiling


def test_a_compiling_start_is_followed_by_the_compile_event(tmp_path, tiny_data):
    # a finished run resumed with --compile on: start and compile are reported, and no step runs (so nothing is
    # actually compiled: torch.compile works at the first forward)
    run = tmp_path / "run"
    main(train_args(tiny_data, run, "--steps", "1", "--compile", "off"))
    main(train_args(tiny_data, run, "--resume", "--compile", "on", "--events", str(tmp_path / "events.jsonl")))
    events = [e for e in read_events(tmp_path / "events.jsonl") if e["event"] in ("start", "compile", "step")]
    assert [e["event"] for e in events] == ["start", "compile"]
    assert events[0]["train"]["compile"] is True and events[1]["note"] == "--compile on"
