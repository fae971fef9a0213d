"""OASIS segmentation discriminator (Schönfeld et al., ICLR 2021): a U-Net on the image alone that labels every
pixel with one of the N classes or "fake" (index N). The label map is its target, not an input."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import sn

# encoder widths in multiples of ndf: ndf 64 gives the paper's 128, 128, 256, 256, 512, 512
WIDTHS = (2, 2, 4, 4, 8, 8)


def levels_for(height: int, width: int) -> int:
    """The paper's 6 stride-2 levels where the size divides by 64, else 5 (sizes are multiples of 32, so that
    96x128 ends at 3x4 like 192x256 does with 6)."""
    return 6 if height % 64 == 0 and width % 64 == 0 else 5


class ResBlockD(nn.Module):
    """The reference's residual_block_D: [LeakyReLU, (x2 up), conv3x3] twice, spectral norm; a 1x1 shortcut when
    the width changes; down blocks average-pool by 2 at the end."""

    def __init__(self, fin: int, fout: int, mode: str, first: bool = False):
        super().__init__()
        self.mode, self.first = mode, first  # mode: "down" | "up"
        self.conv1 = sn(nn.Conv2d(fin, fout, 3, padding=1))
        self.conv2 = sn(nn.Conv2d(fout, fout, 3, padding=1))
        self.shortcut = sn(nn.Conv2d(fin, fout, 1)) if fin != fout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "up":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        dx = self.conv1(x if self.first else F.leaky_relu(x, 0.2))
        dx = self.conv2(F.leaky_relu(dx, 0.2))
        if self.first:  # the image itself: pool before the 1x1 shortcut, as the reference does
            s = F.avg_pool2d(x, 2)
            s = self.shortcut(s) if self.shortcut is not None else s
        else:
            s = self.shortcut(x) if self.shortcut is not None else x
            s = F.avg_pool2d(s, 2) if self.mode == "down" else s
        return s + (F.avg_pool2d(dx, 2) if self.mode == "down" else dx)


class OASISDiscriminator(nn.Module):
    """Returns (features, logits) like the other discriminators: no features (OASIS has no feature matching) and
    one logit map [N, num_classes + 1, H, W] at full size; channel num_classes is "fake" (the reference code puts
    it first; last keeps channel c = class id c)."""

    segmentation = True  # read by the training step: (N+1)-class cross-entropy instead of hinge

    def __init__(self, num_classes: int, ndf: int = 64, height: int = 256, width: int = 256):
        super().__init__()
        self.num_classes = num_classes
        self.fake_class = num_classes
        chans = [3] + [w * ndf for w in WIDTHS[: levels_for(height, width)]]
        self.down = nn.ModuleList(
            [ResBlockD(chans[i], chans[i + 1], "down", first=i == 0) for i in range(len(chans) - 1)]
        )
        # decoder: the deepest map alone, then each step on concat(skip, previous), ending at ndf channels
        ups = [ResBlockD(chans[-1], chans[-2], "up")]
        ups += [ResBlockD(2 * chans[-1 - i], chans[-2 - i], "up") for i in range(1, len(chans) - 2)]
        ups.append(ResBlockD(2 * chans[1], ndf, "up"))
        self.up = nn.ModuleList(ups)
        self.classify = nn.Conv2d(ndf, num_classes + 1, 1)  # no spectral norm on the last layer (reference)

    def forward(self, image: torch.Tensor, label: torch.Tensor | None = None):
        skips, x = [], image
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.up[0](x)
        for i, block in enumerate(self.up[1:], start=2):
            x = block(torch.cat([skips[-i], x], 1))
        return [], [self.classify(x)]
