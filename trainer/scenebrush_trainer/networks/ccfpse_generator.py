"""CC-FPSE generator (Liu et al. 2019): conditional convolutions whose per-pixel depthwise kernels
and channel gates are predicted from the label map and a global-context label pyramid."""

import re

import torch
import torch.nn.functional as F
from torch import nn

from .layers import OneHot, PerPixelDepthwise, SPADENorm, resize_nearest, sn
from .spade_generator import latent_size, trunk_channels, upsample

# What a block predicts from its condition (ModelConfig.predictors): per-pixel kernels for its two depthwise
# convolutions, and two channel gates. "full" (the paper's): each head its own 3x3 hidden conv and 3x3 output conv.
# "light": one 3x3 hidden conv shared by the four heads (their four hidden convs side by side), 1x1 output convs:
# the 3x3 output convs were 72 % of CC-FPSE small's multiply-adds (trainer/README.md, "Cheaper CC-FPSE").
PREDICTORS = ("full", "light")
HEADS = ("kernels_1", "kernels_2", "gate_1", "gate_2")


def predictor(cond_channels: int, nhidden: int, out: int, gate: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cond_channels, nhidden, 3, padding=1), nn.ReLU(), nn.Conv2d(nhidden, out, 3, padding=1)]
    return nn.Sequential(*layers, nn.Sigmoid()) if gate else nn.Sequential(*layers)


def light_head(nhidden: int, out: int, gate: bool) -> nn.Sequential:
    layers = [nn.Conv2d(nhidden, out, 1)]
    return nn.Sequential(*layers, nn.Sigmoid()) if gate else nn.Sequential(*layers)


class CondConvBlock(nn.Module):
    """Depthwise-separable conditional-convolution residual block (fin -> fout)."""

    def __init__(self, fin: int, fout: int, cond_channels: int, nhidden: int, predictors: str = "full"):
        super().__init__()
        fmid = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.nhidden, self.predictors = nhidden, predictors
        outs = dict(zip(HEADS, (fin * 9, fout * 9, fmid, fout)))
        if predictors == "light":
            self.hidden = nn.Sequential(nn.Conv2d(cond_channels, 4 * nhidden, 3, padding=1), nn.ReLU())
        for name, out in outs.items():  # registered in this order in both forms (init_weights draws in it)
            gate = name.startswith("gate")
            if predictors == "light":
                setattr(self, name, light_head(nhidden, out, gate))
            else:
                setattr(self, name, predictor(cond_channels, nhidden, out, gate))
        self.depthwise_0 = PerPixelDepthwise(fin)
        self.depthwise_1 = PerPixelDepthwise(fmid)
        self.norm_0 = nn.BatchNorm2d(fin)
        self.norm_1 = nn.BatchNorm2d(fmid)
        self.conv_0 = sn(nn.Conv2d(fin, fmid, 1))
        self.conv_1 = sn(nn.Conv2d(fmid, fout, 1))
        if self.learned_shortcut:
            self.norm_s = SPADENorm(fin, cond_channels, nhidden)
            self.conv_s = sn(nn.Conv2d(fin, fout, 1, bias=False))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, cond)) if self.learned_shortcut else x
        hidden = dict(zip(HEADS, torch.split(self.hidden(cond), self.nhidden, 1))) if self.predictors == "light" else {}

        def head(name: str) -> torch.Tensor:  # each where it is used: the full form exports the graph it always did
            return getattr(self, name)(hidden.get(name, cond))

        dx = self.conv_0(self.depthwise_0(self.norm_0(x), head("kernels_1")))
        dx = F.leaky_relu(dx * head("gate_1"), 0.2)
        dx = self.conv_1(self.depthwise_1(self.norm_1(dx), head("kernels_2")))
        dx = F.leaky_relu(dx * head("gate_2"), 0.2)
        return shortcut + dx


_FULL_HEAD = re.compile(rf"^(.*\.)?({'|'.join(HEADS)})\.([02])\.(weight|bias)$")  # (block.)head.layer.kind


def light_state(state: dict) -> dict:
    """A full-predictor CC-FPSE state dict as the light predictors': the four heads' hidden convs side by side as the
    shared one (exact), each 3x3 output conv's taps summed into a 1x1 (exact wherever the hidden map is locally
    constant, as inside a label region; it differs at region edges). How `--light-predictors` fine-tunes a model
    trained with full ones."""
    out, hidden = {}, {}
    for key, value in state.items():
        m = _FULL_HEAD.match(key)
        if not m:
            out[key] = value
            continue
        block, head, index, kind = m.groups()
        block = block or ""
        if index == "0":
            hidden.setdefault((block, kind), {})[head] = value
        else:
            out[f"{block}{head}.0.{kind}"] = value.sum((2, 3), keepdim=True) if kind == "weight" else value
    for (block, kind), heads in hidden.items():
        out[f"{block}hidden.0.{kind}"] = torch.cat([heads[h] for h in HEADS])
    return out


def conv_bn(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        sn(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(0.2),
    )


class LabelPyramid(nn.Module):
    """Global-context encoder: bottom-up stride-2 convs to the latent size, then a top-down path
    with 1x1 laterals; returns a context map (ngf channels) per trunk resolution, coarsest first."""

    def __init__(self, num_classes: int, ngf: int, num_up: int):
        super().__init__()
        self.down = nn.ModuleList([conv_bn(num_classes, ngf, 3)] + [conv_bn(ngf, ngf, 3, 2) for _ in range(num_up)])
        self.lateral = nn.ModuleList([conv_bn(ngf, ngf, 1) for _ in range(num_up)])
        self.decode = nn.ModuleList([conv_bn(ngf, ngf, 3) for _ in range(num_up)])

    def forward(self, seg: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = seg
        for layer in self.down:
            x = layer(x)
            feats.append(x)
        ctx = [feats[-1]]
        for i, (lat, dec) in enumerate(zip(self.lateral, self.decode)):
            ctx.append(dec(upsample(ctx[-1]) + lat(feats[-2 - i])))
        return ctx


class CCFPSEGenerator(nn.Module):
    """label int64 [N, H, W] (+ z [N, z_dim]) -> image [N, 3, H, W] in [-1, 1]."""

    def __init__(self, num_classes, height, width, ngf=64, nhidden=128, z_dim=256, num_up=5, predictors="full"):
        super().__init__()
        if predictors not in PREDICTORS:
            raise ValueError(f"unknown predictors {predictors!r}; choose one of {', '.join(PREDICTORS)}")
        self.z_dim, self.num_up, self.ngf, self.predictors = z_dim, num_up, ngf, predictors
        self.sh, self.sw = latent_size(height, width, num_up)
        self.onehot = OneHot(num_classes)
        cond = num_classes + ngf
        if z_dim > 0:
            self.fc = nn.Linear(z_dim, 16 * ngf * self.sh * self.sw)
        else:
            self.fc = nn.Conv2d(num_classes, 16 * ngf, 3, padding=1)
        self.pyramid = LabelPyramid(num_classes, ngf, num_up)
        self.head_0 = CondConvBlock(16 * ngf, 16 * ngf, cond, nhidden, predictors)
        self.middle = nn.ModuleList([CondConvBlock(16 * ngf, 16 * ngf, cond, nhidden, predictors) for _ in range(2)])
        self.ups = nn.ModuleList(
            [CondConvBlock(fin, fout, cond, nhidden, predictors) for fin, fout in trunk_channels(ngf)]
        )
        self.conv_img = nn.Conv2d(ngf, 3, 3, padding=1)

    def forward(self, label: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        seg = self.onehot(label)
        ctx = iter(self.pyramid(seg))

        def condition(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
            return torch.cat([resize_nearest(seg, x.shape[2:]), c], 1)

        if self.z_dim > 0:
            x = self.fc(z).view(-1, 16 * self.ngf, self.sh, self.sw)
        else:
            x = self.fc(resize_nearest(seg, (self.sh, self.sw)))
        c = next(ctx)
        x = self.head_0(x, condition(x, c))
        x = upsample(x)
        c = next(ctx)
        x = self.middle[0](x, condition(x, c))
        if self.num_up == 6:
            x, c = upsample(x), next(ctx)
        x = self.middle[1](x, condition(x, c))
        for block in self.ups:
            x, c = upsample(x), next(ctx)
            x = block(x, condition(x, c))
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))
