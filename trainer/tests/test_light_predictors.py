"""CC-FPSE's light predictors (`train --light-predictors`): one shared 3x3 hidden conv and 1x1 output convs in place
of four 3x3-3x3 heads per block: the multiply-adds they save, the fold from full predictors (exact inside label
regions), a fine-tune that folds, trains and exports, recovery from the package, and the refusals."""

import json

import pytest
import torch
from conftest import data_args, read_events, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.networks import build_generator, fit_generator_state
from scenebrush_trainer.networks.ccfpse_generator import HEADS, CondConvBlock, light_state
from scenebrush_trainer.networks.complexity import count_macs
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.config import ModelConfig, from_dict, model_config, validate

C = 12


def tiny(**kw):
    return model_config("tiny", generator="ccfpse", height=64, width=96, **kw)


def test_light_predictors_save_the_output_convs_multiply_adds():
    full, light = build_generator(tiny(), C), build_generator(tiny(predictors="light"), C)
    lab, z = torch.randint(0, C, (1, 64, 96), generator=torch.Generator().manual_seed(0)), torch.zeros(1, 32)
    nh = 8  # tiny's nhidden
    pixels = [2 * 3, 4 * 6, 4 * 6, 8 * 12, 16 * 24, 32 * 48, 64 * 96]  # per block at 64x96: head, middle x2, ups
    blocks = [full.head_0, *full.middle, *full.ups]
    # each head's output conv goes from 3x3 to 1x1: 8 of 9 taps saved per pixel (the hidden convs stay, side by side)
    saved = sum(hw * sum(getattr(b, h)[2].out_channels * nh * 8 for h in HEADS) for b, hw in zip(blocks, pixels))
    assert count_macs(full, lab, z) - count_macs(light, lab, z) == saved


def test_folding_is_exact_inside_a_label_region_and_only_approximate_across_edges():
    torch.manual_seed(0)
    full = CondConvBlock(8, 4, 6, 5).eval()
    light = CondConvBlock(8, 4, 6, 5, predictors="light").eval()
    light.load_state_dict(light_state(full.state_dict()))
    x = torch.randn(1, 8, 12, 12)
    flat = torch.randn(1, 6, 1, 1).expand(1, 6, 12, 12).contiguous()  # a condition constant over the image
    # away from the zero padding's reach: two 3x3 predictor convs, then two per-pixel 3x3 convs in a row
    inner = (slice(None), slice(None), slice(3, -3), slice(3, -3))
    torch.testing.assert_close(light(x, flat)[inner], full(x, flat)[inner], rtol=1e-5, atol=1e-5)
    edges = torch.randn(1, 6, 12, 12)  # a condition that changes from pixel to pixel: the fold is an approximation
    assert (light(x, edges) - full(x, edges)).abs().max() > 1e-3


def test_a_fine_tune_folds_full_predictors_into_light_ones_trains_and_exports(tiny_data, tmp_path, capsys):
    base, ft, pkg = tmp_path / "base", tmp_path / "ft", tmp_path / "pkg"
    assert main(train_args(tiny_data, base, "--generator", "ccfpse", "--steps", "1")) == 0
    events = tmp_path / "ft.jsonl"
    args = train_args(tiny_data, ft, "--init-from", str(base), "--light-predictors", "--steps", "2", "--events",
                      str(events), "--export-to", str(pkg))  # fmt: skip
    assert main(args) == 0
    start, trained = checkpoint.load(base / "checkpoint.pt"), checkpoint.load(ft / "checkpoint.pt")
    assert trained["model_config"]["predictors"] == "light"
    folded = light_state(start["G"])
    assert set(trained["G"]) == set(folded)  # the light architecture, loaded from the fold
    assert not torch.equal(trained["G"]["head_0.hidden.0.weight"], folded["head_0.hidden.0.weight"])  # and trained
    exported = next(e for e in read_events(events) if e["event"] == "exported")
    assert exported["max_abs_diff"]["model.onnx"] < 1e-2  # ONNX Runtime against PyTorch (float16-stored weights)
    assert json.loads((pkg / "model.json").read_text())["training"]["config"]["predictors"] == "light"
    capsys.readouterr()
    code = main(["recover-weights", "--package", str(pkg), "--discriminator-from", str(ft), "--out",
                 str(tmp_path / "rec"), *data_args(tiny_data), "--images", "4"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["max_abs_diff"] < 1e-3


def test_resuming_keeps_light_predictors_and_a_light_state_loads_as_it_is(tiny_data, tmp_path):
    run = tmp_path / "run"
    assert main(train_args(tiny_data, run, "--generator", "ccfpse", "--light-predictors", "--steps", "1")) == 0
    assert main(train_args(tiny_data, run, "--resume", "--steps", "2")) == 0
    ckpt = checkpoint.load(run / "checkpoint.pt")
    assert ckpt["step"] == 2 and ckpt["model_config"]["predictors"] == "light"
    g = build_generator(from_dict(ModelConfig, ckpt["model_config"]), C)
    assert fit_generator_state(g, ckpt["G"]) is ckpt["G"]


def test_light_predictors_need_ccfpse_and_old_configs_load_as_full(tiny_data, tmp_path, capsys):
    with pytest.raises(ValueError, match="--light-predictors applies to the ccfpse generator, not 'spade'"):
        validate(model_config("tiny", predictors="light"))
    with pytest.raises(ValueError, match="unknown predictors 'heavy'"):
        validate(tiny(predictors="heavy"))
    old = {k: v for k, v in vars(tiny()).items() if k != "predictors"}
    assert from_dict(ModelConfig, old).predictors == "full"
    assert main(train_args(tiny_data, tmp_path / "r", "--light-predictors", "--steps", "1")) != 0
    assert "--light-predictors applies to the ccfpse generator" in capsys.readouterr().err
    assert not (tmp_path / "r" / "checkpoint.pt").exists()
