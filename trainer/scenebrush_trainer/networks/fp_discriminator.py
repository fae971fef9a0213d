"""Feature-pyramid discriminator of CC-FPSE: FP on the image alone, FPSE adds the semantics-embedding
projection term (the ablation toggles exactly `semantic_embedding`)."""

import torch
import torch.nn.functional as F
from torch import nn

from .layers import OneHot, sn


def conv_in(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        sn(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)), nn.InstanceNorm2d(cout), nn.LeakyReLU(0.2)
    )


class FPDiscriminator(nn.Module):
    """Returns (features, logits): one feature list (bottom-up maps from 1/4 down), three logit maps."""

    def __init__(self, num_classes: int, ndf: int = 64, semantic_embedding: bool = True):
        super().__init__()
        nf = ndf
        self.semantic_embedding = semantic_embedding
        chans = [3, nf, 2 * nf, 4 * nf, 8 * nf, 8 * nf]
        self.enc = nn.ModuleList([conv_in(chans[i], chans[i + 1], 3, 2) for i in range(5)])
        # laterals for the maps at 1/4, 1/8, 1/16, 1/32
        self.lat = nn.ModuleList([conv_in(c, 4 * nf, 1) for c in chans[2:]])
        self.final = nn.ModuleList([conv_in(4 * nf, 2 * nf, 3) for _ in range(3)])
        self.tf = nn.Conv2d(2 * nf, 1, 1)
        if semantic_embedding:
            self.onehot = OneHot(num_classes)
            self.seg = nn.Conv2d(2 * nf, 2 * nf, 1)
            self.embedding = nn.Conv2d(num_classes, 2 * nf, 1)

    def forward(self, image: torch.Tensor, label: torch.Tensor):
        bottom_up = []
        x = image
        for layer in self.enc:
            x = layer(x)
            bottom_up.append(x)
        # top-down: 1/32 -> 1/16 -> 1/8 -> 1/4
        top = self.lat[3](bottom_up[4])
        maps = []
        for i in (2, 1, 0):
            top = F.interpolate(top, size=bottom_up[i + 1].shape[2:], mode="bilinear") + self.lat[i](bottom_up[i + 1])
            maps.append(top)
        maps = maps[::-1]  # 1/4, 1/8, 1/16
        finals = [f(m) for f, m in zip(self.final, maps)]
        logits = [self.tf(f) for f in finals]
        if self.semantic_embedding:
            # successive average pooling, as 2x2 pools of the full-size embedding
            emb = self.embedding(self.onehot(label))
            for i, f in enumerate(finals):
                emb = F.adaptive_avg_pool2d(emb, f.shape[2:])
                logits[i] = logits[i] + (emb * self.seg(f)).sum(1, keepdim=True)
        return [bottom_up[1:]], logits
