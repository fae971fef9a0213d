"""GAN losses as published: hinge, discriminator feature matching, KL, optional VGG19 perceptual loss, OASIS's
(N+1)-class cross-entropy and LabelMix; plus a pixel L1 and the mode-seeking (diversity-sensitive) term for short
budgets."""

import torch
import torch.nn.functional as F
from torch import nn


def d_hinge(logits_real: list[torch.Tensor], logits_fake: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(real term, fake term), each summed over the discriminator's scales."""
    real = sum(F.relu(1 - r).mean() for r in logits_real)
    fake = sum(F.relu(1 + f).mean() for f in logits_fake)
    return real, fake


def g_hinge(logits_fake: list[torch.Tensor]) -> torch.Tensor:
    return sum(-f.mean() for f in logits_fake)


def feature_matching(feats_fake: list[list[torch.Tensor]], feats_real: list[list[torch.Tensor]]) -> torch.Tensor:
    """L1 between D's intermediate features on fake and real, averaged over discriminators."""
    loss = sum(F.l1_loss(f, r.detach()) for fakes, reals in zip(feats_fake, feats_real) for f, r in zip(fakes, reals))
    return loss / len(feats_fake)


# Label id of pixels no loss counts: those DiffAugment's translation brings in from outside the image. The don't-care
# class is not one of them: as for the hinge discriminators, void is a class like any other (the reference OASIS
# code gives it weight 0; here the generator draws void regions too, and D judges them as for PatchGAN/FP/FPSE).
IGNORE = -1


def class_balance(label: torch.Tensor, num_classes: int) -> torch.Tensor:
    """OASIS's per-pixel weights from the batch's label map: every class present gets the same total weight, so
    w = counted pixels / (present classes * pixels of that class); they average 1 over the counted pixels (the
    reference code's normalisation), 0 on IGNORE."""
    valid = label != IGNORE
    ids = label.clamp(min=0)
    counts = torch.bincount(ids[valid], minlength=num_classes).float()
    present = (counts > 0).sum()
    coefficients = valid.sum() / (present * counts.clamp(min=1))  # absent classes are never looked up
    return coefficients[ids] * valid


def oasis_class_loss(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Class-balanced cross-entropy pushing each pixel to its semantic class: D's term for real images, and G's
    for fakes. logits [N, C+1, H, W] (channel C is "fake"), label [N, H, W]."""
    ce = F.cross_entropy(logits, label.clamp(min=0), reduction="none")
    weights = class_balance(label, logits.shape[1] - 1)
    return (ce * weights).sum() / (label != IGNORE).sum().clamp(min=1)


def oasis_fake_loss(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Cross-entropy pushing every pixel of a fake to the fake class (channel C), unweighted as in the paper."""
    fake = torch.full_like(label, logits.shape[1] - 1)
    valid = label != IGNORE
    return (F.cross_entropy(logits, fake, reduction="none") * valid).sum() / valid.sum().clamp(min=1)


def labelmix_mask(label: torch.Tensor, num_classes: int, generator: torch.Generator | None) -> torch.Tensor:
    """A random bit per class (the same in every image of the batch), painted by the label map: [N, 1, H, W],
    1 = take the real image's pixel."""
    bits = torch.randint(0, 2, (num_classes,), generator=generator).to(label.device, torch.float32)
    return bits[label.clamp(min=0)].unsqueeze(1)


def labelmix(mask: torch.Tensor, d_mixed: torch.Tensor, d_fake: torch.Tensor, d_real: torch.Tensor) -> torch.Tensor:
    """LabelMix consistency (OASIS): D's logits on the mixed image should equal the same mix of its logits on the
    real and the fake image; gradients reach D through all three."""
    return F.mse_loss(mask * d_real + (1 - mask) * d_fake, d_mixed)


def nearest_l1(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Pixel L1 to the real photo of each layout's nearest style.

    fake holds k styles of the n layouts in real ([k*n, ...], style-major). Only the nearest counts, so
    the other styles are free to differ (best-of-many); with k = 1 it is the plain mean L1."""
    n = real.shape[0]
    per_image = (fake - real.repeat(fake.shape[0] // n, 1, 1, 1)).abs().flatten(1).mean(1)
    return per_image.view(-1, n).min(0).values.mean()


def style_distance(fake: torch.Tensor, z: torch.Tensor, pool: int = 1) -> torch.Tensor:
    """Per layout, mean |G(l, z1) - G(l, z2)| / mean |z1 - z2| for a [2n, ...] batch of two styles each
    (Mao et al. 2019, "Mode Seeking GANs"; Yang et al. 2019, "Diversity-Sensitive Conditional GANs").

    pool > 1 compares pool x pool block means: changes of colour and light count, pixel noise cancels out."""
    if pool > 1:
        fake = F.avg_pool2d(fake, pool, ceil_mode=True)
    a, b = fake.chunk(2)
    za, zb = z.chunk(2)
    return (a - b).abs().flatten(1).mean(1) / (za - zb).abs().mean(1).clamp_min(1e-8)


def mode_seeking(fake: torch.Tensor, z: torch.Tensor, tau: float, pool: int = 1) -> torch.Tensor:
    """Rewards two styles of a layout for differing, up to tau: clamped so that it cannot win over realism
    by turning images into noise once they differ enough (the DSGAN form, not MSGAN's unbounded 1/x)."""
    return -style_distance(fake, z, pool).clamp(max=tau).mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


class VGGLoss(nn.Module):
    """Perceptual loss on VGG19 features (weights 1/32 .. 1), as in pix2pixHD/SPADE.

    Needs ImageNet VGG19 weights from a file (torchvision's state dict layout): none are bundled,
    so the loss is off unless a file is given."""

    LAYERS = (2, 7, 12, 21, 30)  # relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
    WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)

    def __init__(self, weights_file: str):
        super().__init__()
        from torchvision.models import vgg19

        state = torch.load(weights_file, map_location="cpu", weights_only=True)
        features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
        if not features:
            raise ValueError(f"{weights_file} holds no VGG19 `features.*` weights (torchvision's vgg19 state dict)")
        vgg = vgg19(weights=None)
        vgg.features.load_state_dict(features)  # the classifier is not needed
        self.features = vgg.features[: self.LAYERS[-1]].eval()
        for p in self.features.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        x = torch.cat([fake, real]).add(1).div(2).sub(self.mean).div(self.std)
        loss, start = 0.0, 0
        for end, w in zip(self.LAYERS, self.WEIGHTS):
            x = self.features[start:end](x)
            f, r = x.chunk(2)
            loss = loss + w * F.l1_loss(f, r.detach())
            start = end
        return loss
