"""VAE style encoder (SPADE): a photo -> (mu, logvar) of its style code z."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ZeroLinear, sn

COLOUR_GRID = 4  # the colour path's view of the photo: its mean colour in a 4 x 4 grid of blocks


class StyleEncoder(nn.Module):
    """With `colour` (ModelConfig.style_norms) the photo's mean colours in a 4 x 4 grid also reach mu and logvar,
    through a linear layer that starts at zero (a fine-tune adding it begins as the encoder it came from). Why:
    the first instance norm divides out each channel's mean and spread, so the convolutional path is blind to
    exposure and to much of a tint: scaling a photo's light changes nothing after it."""

    def __init__(self, height: int, width: int, ndf: int = 64, z_dim: int = 256, colour: bool = False):
        super().__init__()
        self.pool = (height // COLOUR_GRID, width // COLOUR_GRID)  # sizes are multiples of 32
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
        self.colour = ZeroLinear(3 * COLOUR_GRID**2, 2 * z_dim) if colour else None

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = image
        for i, layer in enumerate(self.layers):
            x = layer(x if i == 0 else F.leaky_relu(x, 0.2))
        x = F.leaky_relu(x, 0.2).flatten(1)
        mu, logvar = self.fc_mu(x), self.fc_var(x)
        if self.colour is not None:
            d_mu, d_var = self.colour(F.avg_pool2d(image, self.pool).flatten(1)).chunk(2, dim=1)
            mu, logvar = mu + d_mu, logvar + d_var
        return mu, logvar
