"""One training step: the discriminator on detached fakes, then the generator (and style encoder); the adversarial
terms of each kind of discriminator are in objectives.py."""

from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from .. import losses
from . import objectives
from .distributed import unwrap


@dataclass
class Nets:
    G: nn.Module
    D: nn.Module
    E: nn.Module | None
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    scaler_g: torch.amp.GradScaler
    scaler_d: torch.amp.GradScaler
    vgg: nn.Module | None = None


def autocast(device: torch.device, amp: str):
    """bf16 runs on a CPU too (oneDNN's bf16 kernels); `auto` is resolved before (precision.choose)."""
    if amp == "off":
        return nullcontext()
    if amp not in ("bf16", "fp16"):
        raise ValueError(f"amp {amp!r} reached the training step unresolved; precision.choose resolves it")
    return torch.autocast(device.type, dtype=torch.bfloat16 if amp == "bf16" else torch.float16)


def step(
    nets: Nets, label: torch.Tensor, real: torch.Tensor, z, eps, cfg, rng: torch.Generator | None = None
) -> dict[str, float]:
    """z may hold k styles per layout ([k*n, z_dim], style-major): G then draws every layout k times. rng: the
    step's own draws (DiffAugment, LabelMix); None takes them from torch's global generator."""
    amp = lambda: autocast(real.device, cfg.amp)  # noqa: E731
    n = real.shape[0]
    k = z.shape[0] // n if z is not None else 1
    g_labels = label.repeat(k, 1, 1)
    batch = objectives.Batch(torch.cat([g_labels, label]), k * n, n, cfg.diffaug, rng)
    d_terms, g_terms = objectives.for_discriminator(nets.D)
    out = {}
    with amp():
        if nets.E is not None:
            mu, logvar = nets.E(real)
            z = mu + eps * torch.exp(0.5 * logvar)
            kld = losses.kl_divergence(mu.float(), logvar.float()) * cfg.lambda_kld
        fake = nets.G(g_labels, z)

    # discriminator on the (detached) fakes and the reals
    nets.D.requires_grad_(True)
    nets.opt_d.zero_grad(set_to_none=True)
    with amp():
        d = d_terms(nets.D, fake.detach(), real, batch, cfg)
    nets.scaler_d.scale(objectives.total(d)).backward()
    nets.scaler_d.step(nets.opt_d)
    nets.scaler_d.update()

    # generator: adversarial (+ feature matching, + KL, + VGG, + L1, + mode seeking), through the updated D
    # without DDP hooks
    nets.D.requires_grad_(False)
    nets.opt_g.zero_grad(set_to_none=True)
    with amp():
        g = g_terms(unwrap(nets.D), fake, real, batch, cfg)
        loss_g = objectives.total(g)
        if nets.E is not None:
            loss_g = loss_g + kld
            out["g_kld"] = kld
        if cfg.lambda_l1 > 0:
            g_l1 = losses.nearest_l1(fake.float(), real.float()) * cfg.lambda_l1
            loss_g = loss_g + g_l1
            out["g_l1"] = g_l1
        if nets.vgg is not None:
            g_vgg = nets.vgg(fake.float(), real.float().repeat(k, 1, 1, 1)) * cfg.lambda_vgg
            loss_g = loss_g + g_vgg
            out["g_vgg"] = g_vgg
        if k == 2 and cfg.lambda_ms > 0:
            g_ms = losses.mode_seeking(fake.float(), z.float(), cfg.ms_tau, cfg.ms_pool) * cfg.lambda_ms
            loss_g = loss_g + g_ms
            out["g_ms"] = g_ms
    nets.scaler_g.scale(loss_g).backward()
    nets.scaler_g.step(nets.opt_g)
    nets.scaler_g.update()
    nets.D.requires_grad_(True)
    out.update(d, **g)
    return {name: float(v.detach()) for name, v in out.items()}
