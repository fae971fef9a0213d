"""DiffAugment: the policy option, differentiability, and labels that move with the image."""

import pytest
import torch

from scenebrush_trainer.losses import IGNORE
from scenebrush_trainer.networks import build_generator
from scenebrush_trainer.training import diffaug
from scenebrush_trainer.training.config import model_config

FULL = "color,translation,cutout"


def test_policy_is_normalised_and_bad_names_are_refused_naming_the_allowed_ones():
    assert diffaug.parse_policy(" color, cutout ") == "color,cutout"
    assert diffaug.parse_policy("off") == diffaug.OFF
    for bad in ("colour", "color,color", "off,color"):
        with pytest.raises(ValueError, match="color, translation, cutout"):
            diffaug.parse_policy(bad)


def layouts_as_images(n=2, h=32, w=48):
    """n label maps with many classes, and images whose every channel is the label id: what happens to one can
    be read off the other."""
    label = torch.arange(h * w).view(1, h, w).repeat(n, 1, 1) % 7 + torch.arange(n).view(n, 1, 1)
    return label.float().unsqueeze(1).repeat(1, 3, 1, 1), label


def test_translation_moves_the_label_map_with_the_image():
    image, label = layouts_as_images()
    g = torch.Generator().manual_seed(3)
    # rows 0, 1 are fakes of layouts 0, 1; rows 2, 3 their reals
    out, lab = diffaug.augment(image.repeat(2, 1, 1, 1), label.repeat(2, 1, 1), "translation", 2, g)
    moved = lab != label.repeat(2, 1, 1)
    assert moved.any(), "seed 3 draws a non-zero shift"
    inside = lab != IGNORE
    assert torch.equal(out[:, 0][inside], lab[inside].float())  # each pixel still shows its label's id
    assert (out[:, :, ~inside[0]] == 0).all() and (~inside).any()  # brought in from outside: 0 and ignored
    assert torch.equal(out[:2], out[2:]) and torch.equal(lab[:2], lab[2:])  # a layout's real and fake alike
    assert not torch.equal(lab[0], lab[1] - 1)  # the two layouts drew different shifts


def test_cutout_and_colour_leave_the_labels_alone():
    image, label = layouts_as_images()
    image = image / 10 + 0.05  # no zeros
    out, lab = diffaug.augment(image, label, "cutout", 2, torch.Generator().manual_seed(0))
    assert torch.equal(lab, label)
    for cut in (out == 0).all(1):  # a rectangle of at most half the height and width (clipped at the edges)
        rows, cols = cut.any(1), cut.any(0)
        assert torch.equal(cut, rows[:, None] & cols[None, :])
        assert 0 < rows.sum() <= 16 and 0 < cols.sum() <= 24
    out, lab = diffaug.augment(image, label, "color", 2, torch.Generator().manual_seed(0))
    assert torch.equal(lab, label) and not torch.allclose(out, image)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", FULL])
def test_diffaug_passes_gradients_to_the_generator(policy):
    torch.manual_seed(0)
    G = build_generator(model_config("tiny", height=32, width=64), 12)
    label, z = torch.randint(0, 12, (2, 32, 64)), torch.randn(2, 32)
    fake = G(label, z)
    fake.retain_grad()
    out, _ = diffaug.augment(fake, label, policy, 2, torch.Generator().manual_seed(0))
    (out * torch.randn_like(out)).sum().backward()
    assert fake.grad.abs().sum() > 0
    assert all(p.grad is not None for p in G.parameters() if p.requires_grad)
    assert sum(float(p.grad.abs().sum()) for p in G.parameters()) > 0


def test_a_configuration_with_a_bad_policy_is_refused_before_training():
    from scenebrush_trainer.training.config import train_config, validate_recipe

    model = model_config("tiny")
    validate_recipe(model, train_config(diffaug=FULL))
    with pytest.raises(ValueError, match="--diffaug: unknown 'colour'"):
        validate_recipe(model, train_config(diffaug="colour"))
    with pytest.raises(ValueError, match="write it as 'color,cutout'"):
        validate_recipe(model, train_config(diffaug="color, cutout"))
