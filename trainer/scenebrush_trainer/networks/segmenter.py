"""ENet (Paszke et al. 2016, arXiv:1606.02147): the segmentation network that scores generated images.
Stronger candidates (FC-DenseNet56, DABNet) are in segmenter_candidates.py; build_segmenter knows all.

Photo float32 [N, 3, H, W] in [-1, 1] -> logits [N, C, H, W]; H and W must be multiples of 8.
About 0.36 M parameters: small enough to train from scratch on a CPU.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .segmenter_candidates import DABNet, FCDenseNet


def conv_bn_act(cin, cout, k, stride=1, padding=0, dilation=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, padding, dilation=dilation, bias=False), nn.BatchNorm2d(cout), nn.PReLU(cout)
    )


class InitialBlock(nn.Module):
    """3x3 stride-2 conv to 13 channels, concatenated with the max-pooled photo: 16 channels at 1/2."""

    def __init__(self, cout=16):
        super().__init__()
        self.conv = nn.Conv2d(3, cout - 3, 3, 2, 1, bias=False)
        self.bn, self.act = nn.BatchNorm2d(cout), nn.PReLU(cout)

    def forward(self, x):
        return self.act(self.bn(torch.cat([self.conv(x), F.max_pool2d(x, 2)], 1)))


def max_pool_with_mask(x):
    """2x2 max pooling plus the 0/1 mask of where each max came from.

    Max-unpooling with this mask (nearest upsample times mask) equals ENet's index-based unpooling except on
    exact ties, and exports to ONNX as plain Resize/Equal/Mul instead of MaxPool indices + MaxUnpool."""
    pooled = F.max_pool2d(x, 2)
    mask = (x == F.interpolate(pooled, scale_factor=2.0, mode="nearest")).to(x.dtype)
    return pooled, mask


class Bottleneck(nn.Module):
    """1x1 projection -> main conv (regular, dilated or asymmetric 5x1/1x5) -> 1x1 expansion, + shortcut."""

    def __init__(self, ch, kind="regular", dilation=1, dropout=0.1, ratio=4):
        super().__init__()
        mid = ch // ratio
        if kind == "asymmetric":
            main = nn.Sequential(
                nn.Conv2d(mid, mid, (5, 1), padding=(2, 0), bias=False),
                nn.Conv2d(mid, mid, (1, 5), padding=(0, 2), bias=False),
                nn.BatchNorm2d(mid),
                nn.PReLU(mid),
            )
        else:
            main = conv_bn_act(mid, mid, 3, padding=dilation, dilation=dilation)
        self.branch = nn.Sequential(
            conv_bn_act(ch, mid, 1),
            main,
            nn.Conv2d(mid, ch, 1, bias=False),
            nn.BatchNorm2d(ch),
            nn.Dropout2d(dropout),
        )
        self.act = nn.PReLU(ch)

    def forward(self, x):
        return self.act(x + self.branch(x))


class DownBottleneck(nn.Module):
    """Stride-2 bottleneck; the shortcut is max pooling, zero-padded to the wider channel count."""

    def __init__(self, cin, cout, dropout=0.1, ratio=4):
        super().__init__()
        mid = cin // ratio
        self.cout = cout
        self.branch = nn.Sequential(
            conv_bn_act(cin, mid, 2, stride=2),
            conv_bn_act(mid, mid, 3, padding=1),
            nn.Conv2d(mid, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.Dropout2d(dropout),
        )
        self.act = nn.PReLU(cout)

    def forward(self, x):
        pooled, mask = max_pool_with_mask(x)
        shortcut = F.pad(pooled, (0, 0, 0, 0, 0, self.cout - x.shape[1]))
        return self.act(shortcut + self.branch(x)), mask


class UpBottleneck(nn.Module):
    """Upsampling bottleneck: transposed conv branch + 1x1 conv and max-unpooling with the encoder's mask."""

    def __init__(self, cin, cout, dropout=0.1, ratio=4):
        super().__init__()
        mid = cin // ratio
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.branch = nn.Sequential(
            conv_bn_act(cin, mid, 1),
            nn.ConvTranspose2d(mid, mid, 3, 2, padding=1, output_padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.PReLU(mid),
            nn.Conv2d(mid, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.Dropout2d(dropout),
        )
        self.act = nn.PReLU(cout)

    def forward(self, x, mask):
        shortcut = F.interpolate(self.shortcut(x), scale_factor=2.0, mode="nearest") * mask
        return self.act(shortcut + self.branch(x))


def stage(ch, dropout):
    """ENet's stages 2 and 3: regular, dilated 2, asymmetric, dilated 4, regular, dilated 8, asymmetric, dilated 16."""
    spec = [("regular", 1), ("dilated", 2), ("asymmetric", 1), ("dilated", 4)] * 2
    spec[4], spec[5], spec[7] = ("regular", 1), ("dilated", 8), ("dilated", 16)
    return nn.Sequential(*[Bottleneck(ch, kind, d, dropout) for kind, d in spec])


class ENet(nn.Module):
    def __init__(self, num_classes: int, height: int = 192, width: int = 256, width_mult: float = 1):
        super().__init__()
        if height % 8 or width % 8:
            raise ValueError(f"ENet needs height and width divisible by 8, got {height}x{width}")
        self.num_classes, self.height, self.width = num_classes, height, width
        c16, c64, c128 = (max(1, round(c * width_mult)) for c in (16, 64, 128))
        self.initial = InitialBlock(c16)
        self.down1 = DownBottleneck(c16, c64, dropout=0.01)
        self.stage1 = nn.Sequential(*[Bottleneck(c64, dropout=0.01) for _ in range(4)])
        self.down2 = DownBottleneck(c64, c128)
        self.stage2 = stage(c128, 0.1)
        self.stage3 = stage(c128, 0.1)
        self.up4 = UpBottleneck(c128, c64)
        self.stage4 = nn.Sequential(Bottleneck(c64), Bottleneck(c64))
        self.up5 = UpBottleneck(c64, c16)
        self.stage5 = Bottleneck(c16)
        self.classifier = nn.ConvTranspose2d(c16, num_classes, 3, 2, padding=1, output_padding=1)

    def forward(self, image):
        x = self.initial(image)
        x, mask1 = self.down1(x)
        x = self.stage1(x)
        x, mask2 = self.down2(x)
        x = self.stage3(self.stage2(x))
        x = self.stage4(self.up4(x, mask2))
        x = self.stage5(self.up5(x, mask1))
        return self.classifier(x)


def segmenter_architectures() -> dict:
    """Name (`--architecture`) -> network class; all take (num_classes, height, width, width_mult)."""
    return {"enet": ENet, "fcdensenet56": FCDenseNet, "dabnet": DABNet}


def build_segmenter(architecture: str, num_classes: int, height: int, width: int, width_mult: float = 1) -> nn.Module:
    known = segmenter_architectures()
    if architecture not in known:
        raise ValueError(f"unknown segmenter architecture {architecture!r}; known: {', '.join(known)}")
    return known[architecture](num_classes, height, width, width_mult)
