"""Style norms (`train --style-norms`): z sets a gamma and beta per channel in every norm of the SPADE generator,
starting at zero, so a fine-tune that adds them begins as the model it came from; trained, exported, checked."""

import json

import pytest
import torch
from conftest import read_events, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.networks import build_encoder, build_generator
from scenebrush_trainer.networks.layers import StyleAffine
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.config import ModelConfig, from_dict, model_config, validate
from scenebrush_trainer.training.setup import load_adding_style_norms

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
    load_adding_style_norms(styled, plain.state_dict())  # what a fine-tune with --style-norms does
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


def test_the_encoders_colour_path_sees_the_light_its_instance_norms_divide_out():
    ramp = torch.linspace(-0.8, 0.8, 64)
    photo = torch.stack([ramp.view(1, 64).expand(64, 64), ramp.view(64, 1).expand(64, 64), -ramp.expand(64, 64)])[None]
    dimmer = (photo + 1) * 0.5 - 1  # the same photo in half the light, [-1, 1] scale
    plain = build_encoder(tiny(encoder=True)).eval()
    coloured = build_encoder(tiny(encoder=True, style_norms=True)).eval()
    load_adding_style_norms(coloured, plain.state_dict())
    with torch.no_grad():
        assert torch.equal(plain(photo)[0], coloured(photo)[0])  # starts as the encoder it is added to
        blind = (plain(photo)[0] - plain(dimmer)[0]).abs().mean()
        coloured.colour.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(1))
        seen = (coloured(photo)[0] - coloured(dimmer)[0]).abs().mean()
    # half the light is an affine change of every channel, which the first instance norm divides out (all but the
    # zero padding at the borders): measured 0.0035 without the colour path, 0.30 with it
    assert seen > 20 * blind, (blind, seen)


def test_loading_refuses_anything_missing_but_the_style_norms():
    styled = build_generator(tiny(modulation="clade", style_norms=True), C)
    state = build_generator(tiny(modulation="clade"), C).state_dict()
    del state["conv_img.weight"]
    with pytest.raises(RuntimeError, match="conv_img.weight"):
        load_adding_style_norms(styled, state)
    with pytest.raises(RuntimeError, match="unexpected"):
        load_adding_style_norms(build_generator(tiny(modulation="clade"), C), styled.state_dict())


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
    e = build_encoder(from_dict(ModelConfig, ckpt["model_config"]))
    e.load_state_dict(ckpt["E"])
    assert e.colour.weight.any()
    exported = next(e for e in read_events(events) if e["event"] == "exported")
    assert exported["max_abs_diff"]["model.onnx"] < 1e-2  # ONNX Runtime against PyTorch (float16-stored weights)
    meta = json.loads((tmp_path / "pkg" / "model.json").read_text())
    assert meta["training"]["config"]["style_norms"] is True
    assert (tmp_path / "pkg" / "encoder.onnx").is_file()


def test_a_fine_tune_adds_a_style_encoder_to_a_model_without_one(tiny_data, tmp_path):
    base, ft = tmp_path / "base", tmp_path / "ft"
    assert main(train_args(tiny_data, base, "--generator", "ccfpse", "--steps", "1")) == 0
    assert not checkpoint.load(base / "checkpoint.pt")["model_config"]["encoder"]
    args = train_args(tiny_data, ft, "--init-from", str(base), "--encoder", "--steps", "1", "--export-to",
                      str(tmp_path / "pkg"))  # fmt: skip
    assert main(args) == 0
    ckpt = checkpoint.load(ft / "checkpoint.pt")
    assert ckpt["model_config"]["encoder"] and ckpt["model_config"]["generator"] == "ccfpse"
    assert ckpt["E"] is not None and (tmp_path / "pkg" / "encoder.onnx").is_file()
