"""`train --compile`: the option reaches the configuration, and compiling happens in place, so checkpoints and export
see the plain modules' weights. Compiling itself takes minutes on a CPU, so its numerics and speed are measured by
trainer/benchmarks/compile_speed.py, not here."""

import torch

from scenebrush_trainer.cli import parser
from scenebrush_trainer.commands.train import options
from scenebrush_trainer.training import distributed
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.setup import build_nets


def test_the_compile_flag_reaches_the_training_configuration(tmp_path):
    base = ["train", "--dataset", "camvid", "--out", str(tmp_path / "run"), "--preset", "tiny"]
    assert options(parser().parse_args(base)).train.compile is False
    assert options(parser().parse_args([*base, "--compile"])).train.compile is True


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
