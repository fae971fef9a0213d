"""SPADE generator (Park et al. 2019): residual blocks whose norms are modulated by the label map, by SPADE's
convolutions or (modulation "clade") by CLADE's per-class gamma and beta (Tan et al. 2020)."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import MODULATIONS, OneHot, resize_nearest, sn


class SPADEResBlock(nn.Module):
    def __init__(self, fin: int, fout: int, cond_channels: int, nhidden: int, modulation="spade", style_dim=0):
        super().__init__()
        layer = MODULATIONS[modulation]
        fmid = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.conv_0 = sn(nn.Conv2d(fin, fmid, 3, padding=1))
        self.conv_1 = sn(nn.Conv2d(fmid, fout, 3, padding=1))
        self.norm_0 = layer(fin, cond_channels, nhidden, style_dim)
        self.norm_1 = layer(fmid, cond_channels, nhidden, style_dim)
        if self.learned_shortcut:
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False))
            self.norm_s = layer(fin, cond_channels, nhidden, style_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        cond = resize_nearest(cond, x.shape[2:])
        shortcut = self.conv_s(self.norm_s(x, cond, z)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, cond, z), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, cond, z), 0.2))
        return shortcut + dx


def trunk_channels(ngf: int) -> list[tuple[int, int]]:
    """(fin, fout) of the trunk blocks after head_0 and the middle blocks: 16 -> 8 -> 4 -> 2 -> 1 x ngf."""
    mults = [16, 8, 4, 2, 1]
    return [(mults[i] * ngf, mults[i + 1] * ngf) for i in range(4)]


def latent_size(height: int, width: int, num_up: int) -> tuple[int, int]:
    f = 2**num_up
    if height % f or width % f:
        raise ValueError(f"height {height} and width {width} must be multiples of {f} ({num_up} upsamplings)")
    return height // f, width // f


class SPADEGenerator(nn.Module):
    """label int64 [N, H, W] (+ z [N, z_dim]) -> image [N, 3, H, W] in [-1, 1]. With style_norms z also sets a
    gamma and beta per channel in every norm (layers.StyleAffine), not only the first feature map."""

    def __init__(self, num_classes, height, width, ngf=64, nhidden=128, z_dim=256, num_up=5, modulation="spade",
                 style_norms=False):  # fmt: skip
        super().__init__()
        if modulation not in MODULATIONS:
            raise ValueError(f"unknown modulation {modulation!r}; choose one of {', '.join(MODULATIONS)}")
        if style_norms and z_dim <= 0:
            raise ValueError("style_norms needs z_dim > 0: z is what modulates the norms")
        self.z_dim, self.num_up = z_dim, num_up
        self.sh, self.sw = latent_size(height, width, num_up)
        self.onehot = OneHot(num_classes)
        c = num_classes
        if z_dim > 0:
            self.fc = nn.Linear(z_dim, 16 * ngf * self.sh * self.sw)
        else:
            self.fc = nn.Conv2d(c, 16 * ngf, 3, padding=1)
        m, s = modulation, z_dim if style_norms else 0
        self.head_0 = SPADEResBlock(16 * ngf, 16 * ngf, c, nhidden, m, s)
        self.middle = nn.ModuleList([SPADEResBlock(16 * ngf, 16 * ngf, c, nhidden, m, s) for _ in range(2)])
        self.ups = nn.ModuleList([SPADEResBlock(fin, fout, c, nhidden, m, s) for fin, fout in trunk_channels(ngf)])
        self.conv_img = nn.Conv2d(ngf, 3, 3, padding=1)
        self.ngf = ngf

    def forward(self, label: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        seg = self.onehot(label)
        if self.z_dim > 0:
            x = self.fc(z).view(-1, 16 * self.ngf, self.sh, self.sw)
        else:
            x = self.fc(resize_nearest(seg, (self.sh, self.sw)))
        x = self.head_0(x, seg, z)
        x = upsample(x)
        x = self.middle[0](x, seg, z)
        if self.num_up == 6:
            x = upsample(x)
        x = self.middle[1](x, seg, z)
        for block in self.ups:
            x = block(upsample(x), seg, z)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


def upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="nearest")
