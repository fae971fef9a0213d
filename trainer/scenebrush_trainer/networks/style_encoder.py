"""VAE style encoder (SPADE): a photo -> (mu, logvar) of its style code z."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import sn


class StyleEncoder(nn.Module):
    def __init__(self, height: int, width: int, ndf: int = 64, z_dim: int = 256):
        super().__init__()
        chans = [3, ndf, 2 * ndf, 4 * ndf, 8 * ndf, 8 * ndf, 8 * ndf]
        layers = []
        for i in range(6):
            height, width = (height + 1) // 2, (width + 1) // 2
            # instance norm needs more than one pixel (small images reach 1x1 at the last layer)
            norm = nn.InstanceNorm2d(chans[i + 1]) if height * width > 1 else nn.Identity()
            layers.append(nn.Sequential(sn(nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1)), norm))
        self.layers = nn.ModuleList(layers)
        self.fc_mu = nn.Linear(8 * ndf * height * width, z_dim)
        self.fc_var = nn.Linear(8 * ndf * height * width, z_dim)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = image
        for i, layer in enumerate(self.layers):
            x = layer(x if i == 0 else F.leaky_relu(x, 0.2))
        x = F.leaky_relu(x, 0.2).flatten(1)
        return self.fc_mu(x), self.fc_var(x)
