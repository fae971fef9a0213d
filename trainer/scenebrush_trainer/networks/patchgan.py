"""Multi-scale PatchGAN discriminator (pix2pixHD / SPADE) on concat(one-hot, image)."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import OneHot, sn


class PatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int, ndf: int):
        super().__init__()
        chans = [in_channels, ndf, 2 * ndf, 4 * ndf, 8 * ndf]
        layers = []
        for i in range(4):
            stride = 1 if i == 3 else 2
            conv = nn.Conv2d(chans[i], chans[i + 1], 4, stride=stride, padding=2)
            norm = [] if i == 0 else [nn.InstanceNorm2d(chans[i + 1])]
            layers.append(nn.Sequential(conv if i == 0 else sn(conv), *norm, nn.LeakyReLU(0.2)))
        layers.append(nn.Sequential(nn.Conv2d(8 * ndf, 1, 4, padding=2)))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for layer in self.layers:
            x = layer(x)
            outs.append(x)
        return outs


class MultiScalePatchGAN(nn.Module):
    """Returns (features, logits): every intermediate map of both scales, one logit map per scale."""

    def __init__(self, num_classes: int, ndf: int = 64, num_scales: int = 2):
        super().__init__()
        self.onehot = OneHot(num_classes)
        self.scales = nn.ModuleList([PatchDiscriminator(num_classes + 3, ndf) for _ in range(num_scales)])

    def forward(self, image: torch.Tensor, label: torch.Tensor):
        x = torch.cat([self.onehot(label), image], 1)
        feats, logits = [], []
        for i, d in enumerate(self.scales):
            if i > 0:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outs = d(x)
            feats.append(outs[:-1])
            logits.append(outs[-1])
        return feats, logits
