"""bf16 autocast on a CPU (`--amp bf16`): a training step computes what float32 computes to bf16's precision, a run
with it checkpoints, resumes and exports a float32 package; fp16, which CPUs do not run, is refused up front;
`--amp auto` (the default) takes bf16 only where it pays, and the run records what it took."""

import copy
import json
import math

import pytest
import torch
from conftest import read_events, step_losses, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.export import onnx_export
from scenebrush_trainer.networks import build_discriminator, build_generator
from scenebrush_trainer.training import checkpoint, precision
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.step import Nets, step


@pytest.mark.parametrize("gen", ["spade", "ccfpse"])
def test_a_bf16_step_on_cpu_matches_float32_to_bf16_precision(gen):
    cfg = model_config("tiny", generator=gen, discriminator="fpse", height=64, width=64)
    torch.manual_seed(0)
    G0, D0 = build_generator(cfg, 12), build_discriminator(cfg, 12)
    label = torch.randint(0, 12, (2, 64, 64))
    real = torch.rand(2, 3, 64, 64) * 2 - 1
    z = torch.randn(2, cfg.z_dim)
    losses, weights = {}, {}
    for amp in ("off", "bf16"):
        tcfg = train_config(amp=amp)
        G, D = copy.deepcopy(G0), copy.deepcopy(D0)
        opts = [torch.optim.Adam(n.parameters(), lr, betas=(tcfg.beta1, tcfg.beta2)) for n, lr in
                ((G, tcfg.lr_g), (D, tcfg.lr_d))]  # fmt: skip
        scalers = [torch.amp.GradScaler("cuda", enabled=False) for _ in range(2)]
        torch.manual_seed(1)
        losses[amp] = step(Nets(G, D, None, *opts, *scalers), label, real, z, None, tcfg)
        weights[amp] = G.state_dict()
    assert losses["off"].keys() == losses["bf16"].keys()
    # autocast took effect (bf16 has an 8-bit mantissa: not one loss comes out bit-equal) ...
    assert all(losses["off"][k] != losses["bf16"][k] for k in losses["off"])
    # ... and changed nothing but rounding: after one step the losses agree to bf16's precision (they drift apart
    # over many steps, as any two GAN runs do, so quality is judged at equal steps: trainer/benchmarks/amp_quality.py)
    for k, v in losses["off"].items():
        assert losses["bf16"][k] == pytest.approx(v, rel=0.03, abs=0.02), k
    # the weights stay float32 (autocast casts per operation), and both steps moved them alike
    for k, w in weights["off"].items():
        assert weights["bf16"][k].dtype == w.dtype
    moved = {a: torch.cat([(weights[a][k] - v).flatten() for k, v in G0.state_dict().items()]) for a in weights}
    assert torch.nn.functional.cosine_similarity(moved["off"], moved["bf16"], dim=0) > 0.9


def test_a_bf16_run_checkpoints_resumes_and_exports_float32(tiny_data, tmp_path):
    events = tmp_path / "events.jsonl"
    assert main(train_args(tiny_data, tmp_path / "run", "--steps", "2", "--amp", "bf16", "--until", "1",
                           "--events", str(events))) == 0  # fmt: skip
    assert checkpoint.load(tmp_path / "run" / "checkpoint.pt")["train_config"]["amp"] == "bf16"
    resumed = tmp_path / "resumed.jsonl"
    pkg = tmp_path / "pkg"
    args = ["train", "--out", str(tmp_path / "run"), "--resume", "--events", str(resumed), "--export-to", str(pkg)]
    assert main(args) == 0
    start = next(e for e in read_events(resumed) if e["event"] == "start")
    assert (start["step"], start["train"]["amp"]) == (1, "bf16")
    assert all(math.isfinite(v) for v in step_losses(read_events(resumed))[2].values())
    meta = json.loads((pkg / "model.json").read_text())
    assert meta["training"]["config"]["amp"] == "bf16"
    exported = next(e for e in read_events(resumed) if e["event"] == "exported")
    # the graph is float32 whatever the training ran in, checked against PyTorch as any export is
    assert exported["max_abs_diff"]["model.onnx"] < onnx_export.FLOAT16_MAX_TOLERANCE


def test_fp16_on_a_cpu_is_refused_before_training_and_names_the_option(tiny_data, tmp_path, capsys):
    assert main(train_args(tiny_data, tmp_path / "run", "--steps", "1", "--amp", "fp16")) == 1
    err = capsys.readouterr().err
    assert "--amp fp16" in err and "--amp bf16" in err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_auto_takes_bf16_only_where_it_pays_and_says_why():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert precision.choose("auto", 16, cpu, native=True).amp == "bf16"  # `small` on a CPU with bf16
    assert precision.choose("auto", 64, cpu, native=True).amp == "bf16"
    tiny = precision.choose("auto", 4, cpu, native=True)
    assert tiny.amp == "off" and "ngf 4" in tiny.reason
    emulated = precision.choose("auto", 16, cpu, native=False)
    assert emulated.amp == "off" and "no native bf16" in emulated.reason
    assert precision.choose("auto", 16, cuda).amp == "off"
    # what is asked for is what runs, with a word when it will be slow
    assert precision.choose("off", 16, cpu, native=True).amp == "off"
    slow = precision.choose("bf16", 16, cpu, native=False)
    assert slow.amp == "bf16" and "emulated" in slow.reason
    assert precision.choose("fp16", 16, cuda).amp == "fp16"
    with pytest.raises(ValueError, match="--amp fp16 needs a CUDA device"):
        precision.choose("fp16", 16, cpu, native=True)
    with pytest.raises(ValueError, match="choose one of"):
        precision.choose("fp8", 16, cpu)


def test_a_run_records_what_auto_chose(tiny_data, tmp_path):
    events = tmp_path / "events.jsonl"
    assert main(train_args(tiny_data, tmp_path / "run", "--steps", "1", "--events", str(events))) == 0
    start = next(e for e in read_events(events) if e["event"] == "start")
    assert start["train"]["amp"] == "off"  # the tiny preset is too narrow for bf16
    assert checkpoint.load(tmp_path / "run" / "checkpoint.pt")["train_config"]["amp"] == "off"
