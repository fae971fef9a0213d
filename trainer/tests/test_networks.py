"""Shapes, parameter counts and the building blocks of every network."""

import copy

import pytest
import torch
import torch.nn.functional as F

from scenebrush_trainer.networks import build_discriminator, build_encoder, build_generator
from scenebrush_trainer.networks.complexity import count_macs, count_params
from scenebrush_trainer.networks.layers import (
    OneHot,
    PerPixelDepthwise,
    fold_spectral_norm,
    per_pixel_depthwise_unfold,
)
from scenebrush_trainer.training.config import model_config

C = 12


def tiny(**kw):
    return model_config("tiny", height=64, width=96, **kw)


def labels(n=2, h=64, w=96):
    return torch.randint(0, C, (n, h, w), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("gen", ["spade", "ccfpse"])
@pytest.mark.parametrize("z_dim", [0, 32])
def test_generator_shapes(gen, z_dim):
    cfg = tiny(generator=gen, z_dim=z_dim)
    g = build_generator(cfg, C)
    z = torch.randn(2, z_dim) if z_dim else None
    out = g(labels(), z)
    assert out.shape == (2, 3, 64, 96)
    assert out.abs().max() <= 1 and torch.isfinite(out).all()
    assert (g.sh, g.sw) == (2, 3)


def test_generator_more_mode_doubles_the_size():
    cfg = model_config("tiny", height=128, width=192, num_up=6)
    g = build_generator(cfg, C)
    assert (g.sh, g.sw) == (2, 3)
    assert g(labels(1, 128, 192), torch.randn(1, cfg.z_dim)).shape == (1, 3, 128, 192)


def test_generator_rejects_sizes_that_do_not_divide():
    with pytest.raises(ValueError, match="multiples of 32"):
        build_generator(model_config("tiny", height=48, width=64), C)


def spade_block_params(fin, fout, c, nh):
    fmid = min(fin, fout)

    def norm(ch):
        return (c * 9 * nh + nh) + 2 * (nh * 9 * ch + ch)

    p = fin * 9 * fmid + fmid + fmid * 9 * fout + fout + norm(fin) + norm(fmid)
    if fin != fout:
        p += fin * fout + norm(fin)
    return p


def test_spade_parameter_count_matches_the_architecture():
    ngf, nh, zd = 4, 8, 32
    g = build_generator(tiny(generator="spade", ngf=ngf, nhidden=nh, z_dim=zd), C)
    chans = [(16, 16), (16, 16), (16, 16), (16, 8), (8, 4), (4, 2), (2, 1)]
    want = zd * 16 * ngf * 2 * 3 + 16 * ngf * 2 * 3  # linear z head at 2x3
    want += sum(spade_block_params(a * ngf, b * ngf, C, nh) for a, b in chans)
    want += ngf * 9 * 3 + 3
    assert count_params(g) == want


def test_ccfpse_kernel_predictors_have_the_specified_widths():
    ngf, nh = 4, 8
    g = build_generator(tiny(generator="ccfpse", ngf=ngf, nhidden=nh), C)
    block = g.head_0
    cond = C + ngf
    assert block.kernels_1[0].in_channels == cond and block.kernels_1[0].out_channels == nh
    assert block.kernels_1[2].out_channels == 16 * ngf * 9
    assert block.kernels_2[2].out_channels == 16 * ngf * 9
    assert block.gate_1[2].out_channels == 16 * ngf and block.gate_2[2].out_channels == 16 * ngf
    up = g.ups[0]  # 16 ngf -> 8 ngf
    assert up.kernels_1[2].out_channels == 16 * ngf * 9 and up.kernels_2[2].out_channels == 8 * ngf * 9
    assert up.gate_1[2].out_channels == 8 * ngf and up.learned_shortcut


@pytest.mark.parametrize("disc,scales", [("patchgan", 2), ("fp", 3), ("fpse", 3)])
def test_discriminator_shapes(disc, scales):
    cfg = tiny(discriminator=disc)
    d = build_discriminator(cfg, C)
    feats, logits = d(torch.rand(2, 3, 64, 96) * 2 - 1, labels())
    assert len(logits) == scales
    assert all(lg.shape[:2] == (2, 1) for lg in logits)
    if disc == "patchgan":
        assert len(feats) == 2 and all(len(f) == 4 for f in feats)
        assert logits[1].shape[-1] < logits[0].shape[-1]
    else:
        assert len(feats) == 1 and [f.shape[1] for f in feats[0]] == [16, 32, 64, 64]  # 2, 4, 8, 8 x ndf
        assert [lg.shape[-2:] for lg in logits] == [(16, 24), (8, 12), (4, 6)]  # 1/4, 1/8, 1/16


def test_fpse_differs_from_fp_only_by_the_embedding_term():
    torch.manual_seed(0)
    fpse = build_discriminator(tiny(discriminator="fpse"), C)
    fp = build_discriminator(tiny(discriminator="fp"), C)
    extra = {k for k in fpse.state_dict()} - {k for k in fp.state_dict()}
    assert extra == {"seg.weight", "seg.bias", "embedding.weight", "embedding.bias"}
    fp.load_state_dict({k: v for k, v in fpse.state_dict().items() if k not in extra})
    x, lab = torch.rand(1, 3, 64, 96), labels(1)
    with torch.no_grad():
        torch.nn.init.zeros_(fpse.embedding.weight)
        torch.nn.init.zeros_(fpse.embedding.bias)
        a, b = fpse.eval()(x, lab)[1], fp.eval()(x, lab)[1]
    assert all(torch.allclose(u, v) for u, v in zip(a, b))


def test_style_encoder_shapes():
    e = build_encoder(tiny(encoder=True, z_dim=32))
    mu, logvar = e(torch.rand(2, 3, 64, 96))
    assert mu.shape == logvar.shape == (2, 32)


def test_one_hot_is_exact_and_zero_outside_the_ids():
    lab = torch.tensor([[[0, 3, 11, 12]]])
    oh = OneHot(12)(lab)
    assert oh.shape == (1, 12, 1, 4) and oh.dtype == torch.float32
    assert oh[0, :, 0, 0].argmax() == 0 and oh[0, :, 0, 2].argmax() == 11
    assert oh[0, :, 0, 3].sum() == 0
    assert torch.equal(oh[:, :, :, :3], F.one_hot(lab[..., :3], 12).permute(0, 3, 1, 2).float())


def test_shifted_slice_depthwise_equals_unfold_reference():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 7, 9, generator=g, requires_grad=True)
    k = torch.randn(2, 5 * 9, 7, 9, generator=g, requires_grad=True)
    ours = PerPixelDepthwise(5)(x, k)
    ref = per_pixel_depthwise_unfold(x, k)
    assert torch.allclose(ours, ref, atol=1e-6)
    gx, gk = torch.autograd.grad(ours.sum(), (x, k))
    rx, rk = torch.autograd.grad(ref.sum(), (x, k))
    assert torch.allclose(gx, rx, atol=1e-5) and torch.allclose(gk, rk, atol=1e-6)


def test_depthwise_with_a_centre_kernel_is_the_identity():
    x = torch.randn(1, 3, 4, 5)
    k = torch.zeros(1, 27, 4, 5)
    k[:, 4 * 3 : 5 * 3] = 1  # tap 4 is the centre
    assert torch.equal(PerPixelDepthwise(3)(x, k), x)


def test_folding_spectral_norm_keeps_outputs_and_the_original_network():
    g = build_generator(tiny(generator="spade"), C).eval()
    lab, z = labels(1), torch.randn(1, 32)
    with torch.no_grad():
        want = g(lab, z)
        folded = fold_spectral_norm(copy.deepcopy(g))
        got = folded(lab, z)
        again = g(lab, z)  # the original still works (it shares classes with the copy)
    assert not any("parametrizations" in k for k in folded.state_dict())
    assert torch.allclose(got, want, atol=1e-6) and torch.equal(again, want)


def test_mac_count_of_a_single_conv_and_depthwise():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1)
    assert count_macs(conv, torch.zeros(1, 3, 10, 10)) == 8 * 100 * 3 * 9
    assert count_macs(PerPixelDepthwise(4), torch.zeros(1, 4, 5, 5), torch.zeros(1, 36, 5, 5)) == 4 * 25 * 9


def test_paper_preset_matches_the_published_sizes():
    """ngf 64 at 256x256 with COCO-Stuff's 183 ids: SPADE ~97M / ~191G MACs, CC-FPSE ~142M / ~456G."""
    with torch.device("meta"):
        lab = torch.zeros(1, 256, 256, dtype=torch.long)
        spade = build_generator(model_config("paper", generator="spade", z_dim=0, height=256, width=256), 183)
        cc = build_generator(model_config("paper", generator="ccfpse", height=256, width=256), 183)
        spade_macs, cc_macs = count_macs(spade, lab, None), count_macs(cc, lab, torch.zeros(1, 256))
    assert abs(count_params(spade) / 97e6 - 1) < 0.02 and abs(spade_macs / 191e9 - 1) < 0.02
    assert abs(count_params(cc) / 142e6 - 1) < 0.02 and abs(cc_macs / 456e9 - 1) < 0.02
    predictors = sum(p.numel() for n, p in cc.named_parameters() if ".kernels_" in n or ".gate_" in n)
    assert abs(predictors / 111e6 - 1) < 0.02
