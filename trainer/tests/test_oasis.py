"""The OASIS segmentation discriminator and its losses: shapes, the class balancing, the fake class, LabelMix."""

import math

import pytest
import torch

from scenebrush_trainer import losses
from scenebrush_trainer.networks import build_discriminator
from scenebrush_trainer.networks.complexity import count_params
from scenebrush_trainer.training.config import model_config

C = 12


def oasis(height=64, width=96, preset="tiny", classes=C):
    return build_discriminator(model_config(preset, discriminator="oasis", height=height, width=width), classes)


def test_oasis_labels_every_pixel_with_a_class_or_fake():
    d = oasis()
    feats, logits = d(torch.rand(2, 3, 64, 96) * 2 - 1, None)
    assert feats == [] and len(logits) == 1  # nothing for feature matching
    assert logits[0].shape == (2, C + 1, 64, 96) and d.fake_class == C
    # ndf 8: encoder widths 2, 2, 4, 4, 8 x ndf; 96 is no multiple of 64, so 5 levels (64x96 -> 2x3)
    assert [b.conv2.out_channels for b in d.down] == [16, 16, 32, 32, 64]
    assert [b.conv2.out_channels for b in oasis(128, 128).down] == [16, 16, 32, 32, 64, 64]  # the paper's 6


def test_oasis_paper_preset_has_the_reference_widths():
    """ndf 64: the reference's 128, 128, 256, 256, 512, 512 encoder and a 64-wide last decoder block."""
    with torch.device("meta"):
        d = oasis(256, 256, "paper", 151)
    assert [b.conv2.out_channels for b in d.down] == [128, 128, 256, 256, 512, 512]
    assert [b.conv1.in_channels for b in d.up] == [512, 1024, 512, 512, 256, 256]
    assert d.classify.in_channels == 64 and d.classify.out_channels == 152
    assert count_params(d) == pytest.approx(22.26e6, rel=0.01)


def test_class_balance_gives_each_present_class_the_same_total_weight():
    label = torch.tensor([[[0, 0], [0, 1]]])  # 3 pixels of class 0, 1 of class 1, none of class 2
    w = losses.class_balance(label, 3)
    # counted pixels / (present classes * pixels of the class): 4 / (2 * 3) and 4 / (2 * 1)
    assert torch.allclose(w, torch.tensor([[[2 / 3, 2 / 3], [2 / 3, 2.0]]]))
    ignored = torch.tensor([[[0, 0], [losses.IGNORE, 1]]])
    assert torch.allclose(losses.class_balance(ignored, 3), torch.tensor([[[0.75, 0.75], [0.0, 1.5]]]))


def probabilities_as_logits(*rows):
    """[1, 3, 2, 2] logits whose softmax at pixel (y, x) is rows[2 * y + x] (classes 0, 1, then fake)."""
    return torch.tensor(rows).log().T.reshape(1, 3, 2, 2)


def test_oasis_losses_on_a_hand_checkable_case():
    label = torch.tensor([[[0, 0], [0, 1]]])  # 2 classes; the fake class is index 2
    logits = probabilities_as_logits((0.5, 0.25, 0.25), (0.5, 0.25, 0.25), (0.5, 0.25, 0.25), (0.25, 0.25, 0.5))
    ln2 = math.log(2)
    # real: class 0 pixels -ln 0.5 with weight 2/3, the class 1 pixel -ln 0.25 with weight 2: (3*2/3 ln2 + 2*2ln2)/4
    assert losses.oasis_class_loss(logits, label).item() == pytest.approx(1.5 * ln2)
    # unbalanced it would be (3 ln2 + 2 ln2) / 4 = 1.25 ln2
    # fake: every pixel to index 2, unweighted: (3 * -ln 0.25 + -ln 0.5) / 4
    assert losses.oasis_fake_loss(logits, label).item() == pytest.approx(1.75 * ln2)


def test_ignored_pixels_count_in_no_oasis_term():
    label = torch.tensor([[[0, 0], [losses.IGNORE, 1]]])
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    (losses.oasis_class_loss(logits, label) + losses.oasis_fake_loss(logits, label)).backward()
    assert (logits.grad[0, :, 1, 0] == 0).all() and logits.grad[0, :, 0, 0].abs().sum() > 0


def test_labelmix_mask_takes_one_bit_per_class_and_its_gradient_reaches_d():
    torch.manual_seed(0)
    label = torch.randint(0, C, (2, 64, 96))
    mask = losses.labelmix_mask(label, C, torch.Generator().manual_seed(1))
    assert mask.shape == (2, 1, 64, 96) and set(mask.unique().tolist()) == {0.0, 1.0}
    for c in label.unique():  # every pixel of a class takes the same source, in every image
        assert mask[:, 0][label == c].unique().numel() == 1
    d = oasis()
    real, fake = torch.rand(2, 3, 64, 96) * 2 - 1, torch.rand(2, 3, 64, 96) * 2 - 1
    _, (out,) = d(torch.cat([fake, real, mask * real + (1 - mask) * fake]), None)
    loss = losses.labelmix(mask, out[4:], out[:2], out[2:4])
    assert loss > 0
    loss.backward()
    grads = [p.grad for p in d.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    # an all-real mask mixes nothing: D's output on the mix is its output on the real image
    ones = torch.ones_like(mask)
    _, (out,) = d(torch.cat([fake, real, real]), None)
    assert losses.labelmix(ones, out[4:], out[:2], out[2:4]).item() == pytest.approx(0, abs=1e-10)
