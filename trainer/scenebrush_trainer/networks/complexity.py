"""Parameter and multiply-add counts, measured with forward hooks on shape-only (meta) tensors."""

import torch
from torch import nn

from .layers import PerPixelDepthwise


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def count_macs(net: nn.Module, *inputs) -> int:
    """Multiply-adds of one forward pass with batch 1: convs, linears and per-pixel depthwise products."""
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

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear))
        elif isinstance(m, PerPixelDepthwise):
            hooks.append(m.register_forward_hook(depthwise))
    try:
        with torch.no_grad():
            net(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return total
