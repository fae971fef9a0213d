"""Stronger from-scratch segmenters than ENet (issue 13, "a stronger ruler"): two ends of the cost range.

Both are published networks trained on CamVid *without* pretrained weights (none exist here), and both keep
ENet's interface: photo float32 [N, 3, H, W] in [-1, 1] -> logits [N, C, H, W], batch norm (folded to a scale
and shift at export, like ENet's), ONNX opset 17 with plain ops.

- `fcdensenet56`: FC-DenseNet56, the "Tiramisu" (Jegou et al. 2017, arXiv:1611.09326, "The One Hundred
  Layers Tiramisu"): 5 dense blocks of 4 layers down, a 4-layer bottleneck and 5 up, growth rate 12, a 48-channel
  first convolution; about 1.4 M parameters. Trained from scratch on CamVid it reached 58.9 % mIoU at 360x480
  (FC-DenseNet103: 66.9 %), the result the issue points to. Its decoder predicts at full resolution with skip
  connections from every scale, which is what thin classes (pole, sign, pedestrian) need and what ENet lacks;
  the price is 3x3 convolutions over 48-180 channels at full resolution: 8.7 GMAC at 192x256 (ENet 0.37) and
  13x ENet's CPU time per training image (trainer/README.md, "The segmenter"). H and W: multiples of 32.
- `dabnet`: DABNet (Li, Lin, Tang 2019, BMVC, arXiv:1907.11357): depth-wise asymmetric bottlenecks with
  dilations up to 16 at 1/8 resolution, input injection at 1/2, 1/4, 1/8; about 0.75 M parameters, 0.96 GMAC at
  192x256 but about ENet's CPU time per training image here. Reported without pretrained weights: 70.1 % mIoU
  on Cityscapes test and 66.4 % on CamVid test at 360x480, among the best published from-scratch mIoU per
  FLOP. It predicts at 1/8 and upsamples bilinearly, so thin classes may suffer at 192x256 (1/8 is 24x32): the
  pilot decides. H and W: multiples of 8.

`width_mult` scales channels (FC-DenseNet: growth rate and first convolution; DABNet: every stage).
"""

import torch
import torch.nn.functional as F
from torch import nn


def scaled(c: int, width_mult: float) -> int:
    return max(1, round(c * width_mult))


def check_size(name: str, height: int, width: int, multiple: int) -> None:
    if height % multiple or width % multiple:
        raise ValueError(f"{name} needs height and width divisible by {multiple}, got {height}x{width}")


# --- FC-DenseNet ---------------------------------------------------------------------------------------------


class DenseLayer(nn.Sequential):
    """BN -> ReLU -> 3x3 conv to `growth` channels -> dropout (pre-activation, as in DenseNet)."""

    def __init__(self, cin: int, growth: int, dropout: float):
        super().__init__(
            nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, growth, 3, padding=1), nn.Dropout2d(dropout)
        )


class DenseBlock(nn.Module):
    """Each layer sees the concatenation of the block input and all earlier layers' outputs. Returns the input
    and every new feature map concatenated, or only the new ones (`new_only`, the upsampling path)."""

    def __init__(self, cin: int, growth: int, layers: int, dropout: float, new_only: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(DenseLayer(cin + i * growth, growth, dropout) for i in range(layers))
        self.new_only = new_only

    def forward(self, x):
        new = []
        for layer in self.layers:
            out = layer(x)
            x = torch.cat([x, out], 1)
            new.append(out)
        return torch.cat(new, 1) if self.new_only else x


class TransitionDown(nn.Sequential):
    def __init__(self, ch: int, dropout: float):
        super().__init__(
            nn.BatchNorm2d(ch), nn.ReLU(inplace=True), nn.Conv2d(ch, ch, 1), nn.Dropout2d(dropout), nn.MaxPool2d(2)
        )


class FCDenseNet(nn.Module):
    def __init__(
        self,
        num_classes: int,
        height: int = 192,
        width: int = 256,
        width_mult: float = 1,
        layers: tuple[int, ...] = (4, 4, 4, 4, 4),
        bottleneck: int = 4,
        growth: int = 12,
        first: int = 48,
        dropout: float = 0.2,
    ):
        super().__init__()
        check_size("FC-DenseNet", height, width, 2 ** len(layers))
        self.num_classes, self.height, self.width = num_classes, height, width
        growth, first = scaled(growth, width_mult), scaled(first, width_mult)
        self.first = nn.Conv2d(3, first, 3, padding=1)
        self.down, self.pool = nn.ModuleList(), nn.ModuleList()
        ch, skips = first, []
        for n in layers:
            self.down.append(DenseBlock(ch, growth, n, dropout))
            ch += n * growth
            skips.append(ch)
            self.pool.append(TransitionDown(ch, dropout))
        self.bottleneck = DenseBlock(ch, growth, bottleneck, dropout, new_only=True)
        prev = bottleneck * growth  # only the new feature maps are upsampled (the paper's memory saving)
        self.up, self.up_blocks = nn.ModuleList(), nn.ModuleList()
        for i, (n, skip) in enumerate(zip(reversed(layers), reversed(skips))):
            last = i == len(layers) - 1
            self.up.append(nn.ConvTranspose2d(prev, prev, 3, stride=2, padding=1, output_padding=1))
            self.up_blocks.append(DenseBlock(prev + skip, growth, n, dropout, new_only=not last))
            out = prev + skip + n * growth if last else n * growth
            prev = out
        self.classifier = nn.Conv2d(prev, num_classes, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")  # the paper's HeUniform
                nn.init.zeros_(m.bias)

    def forward(self, image):
        x = self.first(image)
        skips = []
        for block, pool in zip(self.down, self.pool):
            x = block(x)
            skips.append(x)
            x = pool(x)
        x = self.bottleneck(x)
        for up, block, skip in zip(self.up, self.up_blocks, reversed(skips)):
            x = block(torch.cat([up(x), skip], 1))
        return self.classifier(x)


# --- DABNet --------------------------------------------------------------------------------------------------


class ConvBNPReLU(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, padding=0, dilation=1, groups=1):
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, padding, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.PReLU(cout),
        )


class BNPReLU(nn.Sequential):
    def __init__(self, ch):
        super().__init__(nn.BatchNorm2d(ch, eps=1e-3), nn.PReLU(ch))


class DABModule(nn.Module):
    """BN-PReLU -> 3x3 conv to half the channels -> two depth-wise asymmetric branches (3x1 then 1x3; the second
    dilated by d) summed -> BN-PReLU -> 1x1 conv back to the channels, + the input."""

    def __init__(self, ch: int, d: int):
        super().__init__()
        h = ch // 2
        self.pre = BNPReLU(ch)
        self.reduce = ConvBNPReLU(ch, h, 3, padding=1)
        self.local = nn.Sequential(
            ConvBNPReLU(h, h, (3, 1), padding=(1, 0), groups=h), ConvBNPReLU(h, h, (1, 3), padding=(0, 1), groups=h)
        )
        self.context = nn.Sequential(
            ConvBNPReLU(h, h, (3, 1), padding=(d, 0), dilation=(d, 1), groups=h),
            ConvBNPReLU(h, h, (1, 3), padding=(0, d), dilation=(1, d), groups=h),
        )
        self.post = BNPReLU(h)
        self.expand = nn.Conv2d(h, ch, 1, bias=False)

    def forward(self, x):
        y = self.reduce(self.pre(x))
        return x + self.expand(self.post(self.local(y) + self.context(y)))


class DownsamplingBlock(nn.Module):
    """3x3 stride-2 conv; when widening, concatenated with the max-pooled input (ENet's initial block)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.pool = cin < cout
        self.conv = nn.Conv2d(cin, cout - cin if self.pool else cout, 3, 2, 1, bias=False)
        self.act = BNPReLU(cout)

    def forward(self, x):
        y = self.conv(x)
        if self.pool:
            y = torch.cat([y, F.max_pool2d(x, 2)], 1)
        return self.act(y)


class DABNet(nn.Module):
    def __init__(
        self,
        num_classes: int,
        height: int = 192,
        width: int = 256,
        width_mult: float = 1,
        block1: tuple[int, ...] = (2, 2, 2),
        block2: tuple[int, ...] = (4, 4, 8, 8, 16, 16),
    ):
        super().__init__()
        check_size("DABNet", height, width, 8)
        self.num_classes, self.height, self.width = num_classes, height, width
        c1, c2, c3 = (scaled(c, width_mult) for c in (32, 64, 128))
        c2 -= c2 % 2
        c3 -= c3 % 2
        self.init = nn.Sequential(
            ConvBNPReLU(3, c1, 3, 2, 1), ConvBNPReLU(c1, c1, 3, padding=1), ConvBNPReLU(c1, c1, 3, padding=1)
        )
        self.act1 = BNPReLU(c1 + 3)
        self.down1 = DownsamplingBlock(c1 + 3, c2)
        self.block1 = nn.Sequential(*[DABModule(c2, d) for d in block1])
        self.act2 = BNPReLU(2 * c2 + 3)
        self.down2 = DownsamplingBlock(2 * c2 + 3, c3)
        self.block2 = nn.Sequential(*[DABModule(c3, d) for d in block2])
        self.act3 = BNPReLU(2 * c3 + 3)
        self.classifier = nn.Conv2d(2 * c3 + 3, num_classes, 1)

    def forward(self, image):
        # input injection: the photo average-pooled to 1/2, 1/4, 1/8 (3x3, stride 2, as in the paper)
        i2 = F.avg_pool2d(image, 3, 2, 1)
        i4 = F.avg_pool2d(i2, 3, 2, 1)
        i8 = F.avg_pool2d(i4, 3, 2, 1)
        x = self.act1(torch.cat([self.init(image), i2], 1))
        x0 = self.down1(x)
        x = self.act2(torch.cat([self.block1(x0), x0, i4], 1))
        x0 = self.down2(x)
        x = self.act3(torch.cat([self.block2(x0), x0, i8], 1))
        return F.interpolate(self.classifier(x), scale_factor=8.0, mode="bilinear", align_corners=False)
