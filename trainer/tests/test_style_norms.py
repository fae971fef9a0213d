"""Style norms (`train --style-norms`): z sets a gamma and beta per channel in every norm of the SPADE generator,
starting at zero, so a fine-tune that adds them begins as the model it came from; trained, exported, checked."""

import json

import pytest
import torch
from conftest import read_events, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.networks import build_generator
from scenebrush_trainer.networks.layers import StyleAffine
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.config import ModelConfig, from_dict, model_config, validate
from scenebrush_trainer.training.setup import load_generator

C = 12


def tiny(**kw):
    return model_config("tiny", height=64, width=64, **kw)


def affines(g) -> list[StyleAffine]:
    return [m for m in g.modules() if isinstance(m, StyleAffine)]


@pytest.mark.parametrize("modulation", ["spade", "clade"])
def test_style_norms_start_as_the_model_they_are_added_to(modulation):
    plain = build_generator(tiny(modulation=modulation), C)
    styled = build_generator(tiny(modulation=modulation, style_norms=True), C)
    assert len(affines(styled)) == 7 * 2 + 4 and not affines(plain)  # one per norm, as the norms themselves
    load_generator(styled, plain.state_dict())  # what a fine-tune with --style-norms does
    label = torch.randint(0, C, (1, 64, 64), generator=torch.Generator().manual_seed(0))
    z = torch.randn(1, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(plain.eval()(label, z), styled.eval()(label, z))
    # away from zero, two styles differ in the whole image's colour (per-channel means; training mode: per-image
    # norms) several times as much as through z's first feature map alone (measured: 60x SPADE, 230x CLADE)
    zs = [torch.randn(1, 32, generator=torch.Generator().manual_seed(s)) for s in (2, 3)]
    with torch.no_grad():
        for m in affines(styled):
            m.linear.weight.normal_(0, 0.2, generator=torch.Generator().manual_seed(4))
        tone_change = [(g(label, zs[0]).mean((2, 3)) - g(label, zs[1]).mean((2, 3))).abs().mean()
                       for g in (plain.train(), styled.train())]  # fmt: skip
    assert tone_change[1] > 5 * tone_change[0], tone_change


def test_loading_refuses_anything_missing_but_the_style_norms():
    styled = build_generator(tiny(modulation="clade", style_norms=True), C)
    state = build_generator(tiny(modulation="clade"), C).state_dict()
    del state["conv_img.weight"]
    with pytest.raises(RuntimeError, match="conv_img.weight"):
        load_generator(styled, state)
    with pytest.raises(RuntimeError, match="unexpected"):
        load_generator(build_generator(tiny(modulation="clade"), C), styled.state_dict())


def test_style_norms_need_the_spade_generator_with_z_and_old_configs_load_without_them():
    for bad in (tiny(generator="ccfpse", style_norms=True), tiny(z_dim=0, style_norms=True)):
        with pytest.raises(ValueError, match="--style-norms applies to the spade generator with z"):
            validate(bad)
    old = {k: v for k, v in vars(tiny()).items() if k != "style_norms"}
    assert from_dict(ModelConfig, old).style_norms is False


def test_a_fine_tune_adds_style_norms_trains_them_and_exports_them(tiny_data, tmp_path):
    base, ft = tmp_path / "base", tmp_path / "ft"
    assert main(train_args(tiny_data, base, "--modulation", "clade", "--encoder", "--steps", "1")) == 0
    events = tmp_path / "ft.jsonl"
    args = train_args(tiny_data, ft, "--init-from", str(base), "--style-norms", "--steps", "2", "--events",
                      str(events), "--export-to", str(tmp_path / "pkg"))  # fmt: skip
    assert main(args) == 0
    ckpt = checkpoint.load(ft / "checkpoint.pt")
    assert ckpt["model_config"]["style_norms"] and ckpt["model_config"]["modulation"] == "clade"
    g = build_generator(from_dict(ModelConfig, ckpt["model_config"]), C)
    g.load_state_dict(ckpt["G"])
    assert any(m.linear.weight.any() for m in affines(g))  # the gradient reached them: trained away from zero
    exported = next(e for e in read_events(events) if e["event"] == "exported")
    assert exported["max_abs_diff"]["model.onnx"] < 1e-2  # ONNX Runtime against PyTorch (float16-stored weights)
    meta = json.loads((tmp_path / "pkg" / "model.json").read_text())
    assert meta["training"]["config"]["style_norms"] is True
    assert (tmp_path / "pkg" / "encoder.onnx").is_file()
