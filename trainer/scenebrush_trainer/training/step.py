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
    amp = lambda: autocast(real.device, cfg.amp)  # noqa: E731
    n = real.shape[0]
    labels2 = torch.cat([label, label])
    out = {}
    with amp():
        if nets.E is not None:
            mu, logvar = nets.E(real)
            z = mu + eps * torch.exp(0.5 * logvar)
            kld = losses.kl_divergence(mu.float(), logvar.float()) * cfg.lambda_kld
        fake = nets.G(label, z)

    # discriminator: hinge on real and (detached) fake
    nets.D.requires_grad_(True)
    nets.opt_d.zero_grad(set_to_none=True)
    with amp():
        _, logits = nets.D(torch.cat([fake.detach(), real]), labels2)
        d_fake_logits, d_real_logits = halves(logits, n)
        d_real, d_fake = losses.d_hinge([x.float() for x in d_real_logits], [x.float() for x in d_fake_logits])
    nets.scaler_d.scale(d_real + d_fake).backward()
    nets.scaler_d.step(nets.opt_d)
    nets.scaler_d.update()

    # generator: adversarial + feature matching (+ KL, + VGG), through the updated D without DDP hooks
    nets.D.requires_grad_(False)
    nets.opt_g.zero_grad(set_to_none=True)
    with amp():
        feats, logits = unwrap(nets.D)(torch.cat([fake, real]), labels2)
        fake_logits, _ = halves(logits, n)
        fake_feats, real_feats = feature_halves(feats, n)
        g_gan = losses.g_hinge([x.float() for x in fake_logits])
        g_feat = (
            losses.feature_matching(
                [[f.float() for f in fs] for fs in fake_feats], [[f.float() for f in fs] for fs in real_feats]
            )
            * cfg.lambda_feat
        )
        loss_g = g_gan + g_feat
        if nets.E is not None:
            loss_g = loss_g + kld
            out["g_kld"] = kld
        if cfg.lambda_l1 > 0:
            g_l1 = (fake.float() - real.float()).abs().mean() * cfg.lambda_l1
            loss_g = loss_g + g_l1
            out["g_l1"] = g_l1
        if nets.vgg is not None:
            g_vgg = nets.vgg(fake.float(), real.float()) * cfg.lambda_vgg
            loss_g = loss_g + g_vgg
            out["g_vgg"] = g_vgg
    nets.scaler_g.scale(loss_g).backward()
    nets.scaler_g.step(nets.opt_g)
    nets.scaler_g.update()
    nets.D.requires_grad_(True)
    out.update(d_real=d_real, d_fake=d_fake, g_gan=g_gan, g_feat=g_feat)
    return {k: float(v.detach()) for k, v in out.items()}
