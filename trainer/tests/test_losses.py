"""The loss terms whose behaviour is ours to define: nearest-style L1 and mode seeking."""

import pytest
import torch

from scenebrush_trainer import losses


def test_nearest_l1_with_one_style_is_the_mean_l1():
    fake, real = torch.rand(3, 3, 8, 8), torch.rand(3, 3, 8, 8)
    assert torch.allclose(losses.nearest_l1(fake, real), (fake - real).abs().mean())


def test_nearest_l1_counts_only_each_layouts_nearer_style():
    real = torch.zeros(2, 3, 4, 4)
    # style-major: [layout 0 style 0, layout 1 style 0, layout 0 style 1, layout 1 style 1]
    fake = torch.stack([torch.full((3, 4, 4), v) for v in (0.0, 0.8, 0.5, 0.2)])
    assert losses.nearest_l1(fake, real).item() == pytest.approx((0.0 + 0.2) / 2)


def test_style_distance_is_image_change_over_z_change_per_layout():
    fake = torch.cat([torch.zeros(2, 3, 4, 4), torch.stack([torch.full((3, 4, 4), 0.3), torch.full((3, 4, 4), 0.6)])])
    z = torch.cat([torch.zeros(2, 8), torch.full((2, 8), 2.0)])
    assert losses.style_distance(fake, z).tolist() == pytest.approx([0.15, 0.3])


def test_mode_seeking_pushes_styles_apart_only_up_to_tau():
    z = torch.cat([torch.zeros(2, 8), torch.ones(2, 8)])
    near = torch.cat([torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.1)]).requires_grad_()
    losses.mode_seeking(near, z, tau=0.5).backward()
    a, b = near.grad.chunk(2)
    assert (a > 0).all() and (b < 0).all()  # descending the loss moves the two styles apart
    far = torch.cat([torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.9)]).requires_grad_()
    loss = losses.mode_seeking(far, z, tau=0.5)
    loss.backward()
    assert loss.item() == pytest.approx(-0.5) and (far.grad == 0).all()  # enough difference: no push to noise


def test_pooled_style_distance_counts_colour_changes_not_pixel_noise():
    z = torch.cat([torch.zeros(1, 8), torch.ones(1, 8)])
    checker = (torch.arange(8).view(1, 8) + torch.arange(8).view(8, 1)) % 2 * 2 - 1.0  # +-1 per pixel
    noise = torch.cat([torch.zeros(1, 3, 8, 8), 0.5 * checker.expand(1, 3, 8, 8)])
    tint = torch.cat([torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.5)])
    assert losses.style_distance(noise, z).item() == pytest.approx(0.5)
    assert losses.style_distance(noise, z, pool=4).item() == pytest.approx(0.0)
    assert losses.style_distance(tint, z, pool=4).item() == pytest.approx(0.5)
