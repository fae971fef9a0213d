"""The adversarial terms of a step, per kind of discriminator, as named losses: hinge + feature matching for
PatchGAN/FP/FPSE, OASIS's (N+1)-class cross-entropy + LabelMix for the segmentation discriminator. With a
DiffAugment policy, every image D sees is augmented first (diffaug.py)."""

from dataclasses import dataclass
from functools import reduce
from operator import add

import torch

from .. import losses
from . import diffaug
from .distributed import unwrap


@dataclass
class Batch:
    """What D is shown: kn fakes (k styles of n layouts, style-major), then the n reals; labels per row."""

    labels: torch.Tensor
    kn: int
    n: int
    diffaug: str  # policy or diffaug.OFF
    rng: torch.Generator | None  # augmentation and LabelMix draws


def total(terms: dict) -> torch.Tensor:
    return reduce(add, terms.values())  # no leading 0: hinge sums stay bit-identical to the plain a + b


def shown(images: torch.Tensor, labels: torch.Tensor, b: Batch):
    if b.diffaug == diffaug.OFF:
        return images, labels
    return diffaug.augment(images, labels, b.diffaug, b.n, b.rng)


def halves(outs: list, n: int) -> tuple[list, list]:
    return [o[:n] for o in outs], [o[n:] for o in outs]


def feature_halves(feats: list[list[torch.Tensor]], n: int):
    return [[f[:n] for f in fs] for fs in feats], [[f[n:] for f in fs] for fs in feats]


def hinge_d(D, fake, real, b: Batch, cfg) -> dict:
    _, logits = D(*shown(torch.cat([fake, real]), b.labels, b))
    d_fake_logits, d_real_logits = halves(logits, b.kn)
    d_real, d_fake = losses.d_hinge([x.float() for x in d_real_logits], [x.float() for x in d_fake_logits])
    return {"d_real": d_real, "d_fake": d_fake}


def hinge_g(D, fake, real, b: Batch, cfg) -> dict:
    feats, logits = D(*shown(torch.cat([fake, real]), b.labels, b))
    fake_logits, _ = halves(logits, b.kn)
    fake_feats, real_feats = feature_halves(feats, b.kn)
    k = b.kn // b.n
    g_gan = losses.g_hinge([x.float() for x in fake_logits])
    g_feat = (
        losses.feature_matching(
            [[f.float() for f in fs] for fs in fake_feats],
            [[r.float().repeat(k, 1, 1, 1) for r in rs] for rs in real_feats],
        )
        * cfg.lambda_feat
    )
    return {"g_gan": g_gan, "g_feat": g_feat}


def oasis_d(D, fake, real, b: Batch, cfg) -> dict:
    """Reals to their classes (balanced), fakes to "fake"; LabelMix mixes each layout's real photo with its first
    fake by a random bit per class. One forward pass over all of it: spectral norm's power iteration runs once."""
    images, labels = shown(torch.cat([fake, real]), b.labels, b)
    kn, n = b.kn, b.n
    mix = cfg.lambda_labelmix > 0
    if mix:
        mask = losses.labelmix_mask(labels[kn:], unwrap(D).num_classes, b.rng)
        images = torch.cat([images, mask * images[kn:] + (1 - mask) * images[:n]])
    _, (logits,) = D(images, None)
    logits = logits.float()
    out = {
        "d_real": losses.oasis_class_loss(logits[kn : kn + n], labels[kn:]),
        "d_fake": losses.oasis_fake_loss(logits[:kn], labels[:kn]),
    }
    if mix:
        lm = losses.labelmix(mask, logits[kn + n :], logits[:n], logits[kn : kn + n])
        out["d_labelmix"] = lm * cfg.lambda_labelmix
    return out


def oasis_g(D, fake, real, b: Batch, cfg) -> dict:
    """Each generated pixel pushed to its class: no real images, no feature matching (lambda_feat plays no part)."""
    images, labels = shown(fake, b.labels[: b.kn], b)
    _, (logits,) = D(images, None)
    return {"g_gan": losses.oasis_class_loss(logits.float(), labels)}


def for_discriminator(D):
    """(D's terms, G's adversarial terms) for this discriminator."""
    return (oasis_d, oasis_g) if getattr(unwrap(D), "segmentation", False) else (hinge_d, hinge_g)
