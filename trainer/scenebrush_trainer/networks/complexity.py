"""Parameter and multiply-add counts, measured with forward hooks on shape-only (meta) tensors."""

import torch
from torch import nn

from .layers import CLADENorm, PerPixelDepthwise


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def count_macs(net: nn.Module, *inputs) -> int:
    """Multiply-adds of one forward pass with batch 1: convs, linears, per-pixel depthwise products and CLADE's
    gamma/beta lookups (as exported: two bias-free 1x1 convs of the one-hot label map)."""
    total = 0

    def conv(m: nn.Conv2d, _inp, out):
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear(m: nn.Linear, _inp, out):
        nonlocal total
        total += out.numel() * m.in_features

    def depthwise(_m, _inp, out):
        nonlocal total
        total += out.numel() * 9

    def clade(m: CLADENorm, _inp, out):
        nonlocal total
        total += 2 * out.numel() * m.gamma.shape[1]

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, PerPixelDepthwise):
            hooks.append(m.register_forward_hook(depthwise))
        elif isinstance(m, CLADENorm):
            hooks.append(m.register_forward_hook(clade))
    try:
        with torch.no_grad():
            net(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return total
