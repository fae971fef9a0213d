"""Layers shared by the networks: label encoding, SPADE and CLADE norms, per-pixel depthwise conv, spectral norm."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm


class OneHot(nn.Module):
    """int64 label map [N, H, W] -> float one-hot [N, C, H, W].

    Written as Equal against a constant arange + Cast so that it exports to plain ONNX ops.
    Ids outside 0..C-1 give an all-zero vector (the dataset check keeps them out of training).
    """

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.register_buffer("ids", torch.arange(num_classes).view(1, num_classes, 1, 1), persistent=False)

    def forward(self, label: torch.Tensor) -> torch.Tensor:
        return (label.unsqueeze(1) == self.ids).to(torch.float32)


def sn(module: nn.Module, enabled: bool = True) -> nn.Module:
    return spectral_norm(module) if enabled else module


def fold_spectral_norm(net: nn.Module) -> nn.Module:
    """Replaces every spectral-normalized conv/linear by a plain one holding the normalized weight.

    Call in eval mode (the weight then uses the stored u, v). New modules rather than
    remove_parametrizations, which edits the class that deep copies of the network share."""
    for name, child in net.named_children():
        if parametrize.is_parametrized(child, "weight"):
            setattr(net, name, plain_copy(child))
        else:
            fold_spectral_norm(child)
    return net


def plain_copy(m: nn.Module) -> nn.Module:
    if isinstance(m, nn.Conv2d):
        new = nn.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups,
            m.bias is not None, m.padding_mode,
        )  # fmt: skip
    elif isinstance(m, nn.Linear):
        new = nn.Linear(m.in_features, m.out_features, m.bias is not None)
    else:
        raise TypeError(f"cannot fold spectral norm of {type(m).__name__}")
    with torch.no_grad():
        new.weight.copy_(m.weight)
        if m.bias is not None:
            new.bias.copy_(m.bias)
    return new.to(m.weight.device, m.weight.dtype)


def resize_nearest(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="nearest")


class ZeroLinear(nn.Linear):
    """A linear layer that starts at zero (weights and bias), and that init_weights leaves so: what style norms add
    to a network (StyleAffine, the encoder's colour path), so that a model given them begins as it was; a
    checkpoint without them loads (training.setup.load_adding_style_norms)."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        nn.init.zeros_(self.bias)


class StyleAffine(nn.Module):
    """z [N, z_dim] -> a gamma and a beta per channel [N, C, 1, 1], added to a norm's label modulation
    (ModelConfig.style_norms).

    Why: trained at batch size 1, every norm divides out each image's own per-channel mean and spread, so the
    global tone that z gave the first feature map is gone after the first normalised shortcut; z, and a style
    encoder's photo, could then move only the texture of the 6x8 start (an exported CLADE + encoder model at
    step 8312: photos scaled x0.5 and x1.5 moved its images' mean by 0.001). A per-channel affine from z after
    each norm, as AdaIN does in style-based generators, puts light and colour where normalisation cannot remove
    them. Starts at zero, so a model fine-tuned with it begins exactly as the model it came from."""

    def __init__(self, z_dim: int, channels: int):
        super().__init__()
        self.linear = ZeroLinear(z_dim, 2 * channels)

    def forward(self, z: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if z is None:
            raise ValueError("this norm is modulated by z (style_norms) and needs it")
        gamma, beta = self.linear(z)[:, :, None, None].chunk(2, dim=1)
        return gamma, beta


def style_affine(z_dim: int, channels: int) -> StyleAffine | None:
    return StyleAffine(z_dim, channels) if z_dim > 0 else None


class SPADENorm(nn.Module):
    """Parameter-free batch norm modulated per pixel by gamma/beta predicted from the label map (plus one gamma
    and beta per channel from z when style_dim > 0: StyleAffine)."""

    def __init__(self, channels: int, cond_channels: int, nhidden: int, style_dim: int = 0):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.shared = nn.Sequential(nn.Conv2d(cond_channels, nhidden, 3, padding=1), nn.ReLU())
        self.gamma = nn.Conv2d(nhidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(nhidden, channels, 3, padding=1)
        self.style = style_affine(style_dim, channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        if cond.shape[2:] != x.shape[2:]:
            cond = resize_nearest(cond, x.shape[2:])
        h = self.shared(cond)
        if self.style is None:  # written as before style norms, so that older packages export the same graph
            return self.norm(x) * (1 + self.gamma(h)) + self.beta(h)
        dg, db = self.style(z)
        return self.norm(x) * (1 + self.gamma(h) + dg) + self.beta(h) + db


class CLADENorm(nn.Module):
    """Class-adaptive normalisation (CLADE, Tan et al. 2020): SPADENorm's parameter-free batch norm, modulated
    by a learned gamma and beta per class instead of ones predicted by convolutions of the label map.

    Takes SPADENorm's inputs (the one-hot label map as `cond`) and applies gamma as it does,
    norm(x) * (1 + gamma[class]) + beta[class], so the two are interchangeable. The lookup is a bias-free 1x1
    conv of the one-hot map (ONNX Conv; the generator's input is class ids made one-hot in the graph, and ids
    outside the classes, all-zero there, get no modulation). As in the paper (which applies gamma without the
    1 +), the scale 1 + gamma starts as U[0, 1] per class and channel and beta at zero: the classes differ from
    the first step. A zero start (the identity) left a CamVid run nearly unconditioned: after 4250 steps its
    mean |gamma| was 0.017 against 0.21 for SPADE's predicted gamma, because one parameter per class moves by
    about the learning rate a step under Adam, while SPADE's gamma is a sum over a convolution's whole fan-in,
    and the generator drew its layout from z instead (trainer/README.md, CLADE). They are stored in conv
    weight shape [channels, classes, 1, 1] so that the export keeps them as named initializers (recover-weights
    reads them back). The paper's optional intra-class positional encoding (CLADE-ICPE) is not implemented.
    """

    def __init__(self, channels: int, num_classes: int, style_dim: int = 0):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Parameter(torch.rand(channels, num_classes, 1, 1) - 1)  # 1 + gamma ~ U[0, 1]
        self.beta = nn.Parameter(torch.zeros(channels, num_classes, 1, 1))
        self.style = style_affine(style_dim, channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        if cond.shape[2:] != x.shape[2:]:
            cond = resize_nearest(cond, x.shape[2:])
        if self.style is None:  # as before style norms (the same exported graph)
            return self.norm(x) * (1 + F.conv2d(cond, self.gamma)) + F.conv2d(cond, self.beta)
        dg, db = self.style(z)
        return self.norm(x) * (1 + F.conv2d(cond, self.gamma) + dg) + F.conv2d(cond, self.beta) + db


def clade_norm(channels: int, num_classes: int, nhidden: int, style_dim: int = 0) -> CLADENorm:
    return CLADENorm(channels, num_classes, style_dim)  # no hidden layer: nhidden has no effect


# The SPADE generator's label modulations (ModelConfig.modulation), each a norm layer:
# (channels, classes, nhidden, style_dim) -> layer
MODULATIONS = {"spade": SPADENorm, "clade": clade_norm}


class PerPixelDepthwise(nn.Module):
    """out[n,c,y,x] = sum_t kernel[n, t*C + c, y, x] * in[n, c, y+dy_t, x+dx_t], 3x3 window, zero padding.

    Nine shifted slices multiplied and summed: the same result as im2col (unfold) with a fraction
    of its memory, and it exports to ONNX as plain Pad/Slice/Mul/Add with constant bounds.
    Kernel channels are grouped by tap (t = 3*(dy+1) + (dx+1)), each group one weight per channel.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
        taps = torch.split(kernels, self.channels, dim=1)
        padded = F.pad(x, (1, 1, 1, 1))
        out = None
        for i in range(3):
            # ends relative to the far edge keep the slice bounds constant in the exported graph
            rows = padded[:, :, i : i - 2 if i < 2 else None]
            for j in range(3):
                term = rows[:, :, :, j : j - 2 if j < 2 else None] * taps[3 * i + j]
                out = term if out is None else out + term
        return out


def per_pixel_depthwise_unfold(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Reference im2col implementation (as in the CC-FPSE code), for tests."""
    n, c, h, w = x.shape
    cols = F.unfold(x, 3, padding=1).view(n, c, 9, h, w)
    k = kernels.view(n, 9, c, h, w).transpose(1, 2)
    return (cols * k).sum(2)


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """Xavier init (the reference code's default, gain 0.02); BN scales N(1, gain)."""
    for m in net.modules():
        if isinstance(m, ZeroLinear):
            continue
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight
            nn.init.xavier_normal_(w, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            if parametrize.is_parametrized(m, "weight"):
                # Re-estimate u, v for the new weight so that eval-mode outputs are sane from the start.
                p = m.parametrizations.weight[0]
                p._power_method(p._reshape_weight_to_matrix(w.detach()), 15)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
