"""One training step: the discriminator on detached fakes, then the generator (and style encoder)."""

from contextlib import nullcontext
from dataclasses import dataclass

import torch
from torch import nn

from .. import losses
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
    if device.type != "cuda" or amp == "off":
        return nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16 if amp == "bf16" else torch.float16)


def halves(outs: list, n: int) -> tuple[list, list]:
    return [o[:n] for o in outs], [o[n:] for o in outs]


def feature_halves(feats: list[list[torch.Tensor]], n: int):
    return [[f[:n] for f in fs] for fs in feats], [[f[n:] for f in fs] for fs in feats]


def step(nets: Nets, label: torch.Tensor, real: torch.Tensor, z, eps, cfg) -> dict[str, float]:
    """z may hold k styles per layout ([k*n, z_dim], style-major): G then draws every layout k times."""
    amp = lambda: autocast(real.device, cfg.amp)  # noqa: E731
    n = real.shape[0]
    k = z.shape[0] // n if z is not None else 1
    g_labels = label.repeat(k, 1, 1)
    d_labels = torch.cat([g_labels, label])
    out = {}
    with amp():
        if nets.E is not None:
            mu, logvar = nets.E(real)
            z = mu + eps * torch.exp(0.5 * logvar)
            kld = losses.kl_divergence(mu.float(), logvar.float()) * cfg.lambda_kld
        fake = nets.G(g_labels, z)

    # discriminator: hinge on real and (detached) fake
    nets.D.requires_grad_(True)
    nets.opt_d.zero_grad(set_to_none=True)
    with amp():
        _, logits = nets.D(torch.cat([fake.detach(), real]), d_labels)
        d_fake_logits, d_real_logits = halves(logits, k * n)
        d_real, d_fake = losses.d_hinge([x.float() for x in d_real_logits], [x.float() for x in d_fake_logits])
    nets.scaler_d.scale(d_real + d_fake).backward()
    nets.scaler_d.step(nets.opt_d)
    nets.scaler_d.update()

    # generator: adversarial + feature matching (+ KL, + VGG, + L1, + mode seeking), through the updated D
    # without DDP hooks
    nets.D.requires_grad_(False)
    nets.opt_g.zero_grad(set_to_none=True)
    with amp():
        feats, logits = unwrap(nets.D)(torch.cat([fake, real]), d_labels)
        fake_logits, _ = halves(logits, k * n)
        fake_feats, real_feats = feature_halves(feats, k * n)
        g_gan = losses.g_hinge([x.float() for x in fake_logits])
        g_feat = (
            losses.feature_matching(
                [[f.float() for f in fs] for fs in fake_feats],
                [[r.float().repeat(k, 1, 1, 1) for r in rs] for rs in real_feats],
            )
            * cfg.lambda_feat
        )
        loss_g = g_gan + g_feat
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
    out.update(d_real=d_real, d_fake=d_fake, g_gan=g_gan, g_feat=g_feat)
    return {name: float(v.detach()) for name, v in out.items()}
