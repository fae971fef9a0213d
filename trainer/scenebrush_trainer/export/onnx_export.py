"""ONNX export of generators and style encoders, checked against PyTorch with onnxruntime."""

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..fileio import atomic_path
from ..networks.layers import fold_spectral_norm

OPSET = 17
TOLERANCE = 1e-4
# How an exported network normalises: "running" uses batch norm's running statistics (eval mode);
# "per-image" each image's own statistics, which is what a network trained with one layout per batch saw
# in every training step (batch statistics of a batch of one are the image's own).
NORMS = ("running", "per-image")


class ExportError(RuntimeError):
    pass


class GeneratorGraph(nn.Module):
    """The exported signature: label (and z when z_dim > 0) -> image."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, label, z=None):
        return self.generator(label, z)


def inference_norm(train: dict, norm: str = "auto", world: int = 1) -> str:
    """`auto`: what the run trained with. With one layout per batch norm batch (batch size 1 in one process;
    two styles of it with the mode-seeking term) batch norm always normalised by that image's own statistics,
    which running averages only approximate: on camvid-spade, exporting per-image statistics instead of
    running ones raised val mIoU from 0.429 to 0.460 (40 layouts, same weights)."""
    if norm == "auto":
        return "per-image" if int(train.get("batch_size", 0)) * world == 1 else "running"
    if norm not in NORMS:
        raise ValueError(f"--norm {norm!r}: use auto, {' or '.join(NORMS)}")
    return norm


class FrozenBatchNorm(nn.Module):
    """Batch norm in inference mode as a per-channel scale and shift from the running statistics."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        scale = torch.rsqrt(bn.running_var + bn.eps)
        shift = -bn.running_mean * scale
        if bn.affine:
            scale, shift = scale * bn.weight, shift * bn.weight + bn.bias
        self.register_buffer("scale", scale.detach().view(1, -1, 1, 1).clone())
        self.register_buffer("shift", shift.detach().view(1, -1, 1, 1).clone())

    def forward(self, x):
        return x * self.scale + self.shift


class PerImageNorm(nn.Module):
    """Batch norm with each image's own statistics (ONNX InstanceNormalization), keeping its affine part."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.eps, self.channels = bn.eps, bn.num_features
        self.weight = nn.Parameter(bn.weight.detach().clone()) if bn.affine else None
        self.bias = nn.Parameter(bn.bias.detach().clone()) if bn.affine else None

    def forward(self, x):
        weight, bias = self.weight, self.bias
        if weight is None:  # the exporter needs a scale of known size; these become unnamed constants
            weight = torch.ones(self.channels, device=x.device, dtype=x.dtype)
            bias = torch.zeros(self.channels, device=x.device, dtype=x.dtype)
        return F.instance_norm(x, weight=weight, bias=bias, eps=self.eps)


def replace_batch_norm(net: nn.Module, norm: str = "running") -> nn.Module:
    if norm not in NORMS:
        raise ValueError(f"normalisation {norm!r}: use one of {', '.join(NORMS)}")
    layer = FrozenBatchNorm if norm == "running" else PerImageNorm
    for name, child in net.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, layer(child))
        else:
            replace_batch_norm(child, norm)
    return net


def inference_copy(net: nn.Module, norm: str = "running") -> nn.Module:
    """A CPU float32 copy for inference: batch norm as `norm` says (NORMS), spectral norm folded."""
    net = copy.deepcopy(net).to("cpu", torch.float32).eval()
    with torch.no_grad():
        fold_spectral_norm(net)
        replace_batch_norm(net, norm)
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str]) -> None:
    axes = {name: {0: "N"} for name in inputs + outputs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The TorchScript exporter gives a compact graph of plain ops with weights embedded.
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    compact(path)


def compact(path: Path) -> None:
    """Drops node names and shortens intermediate tensor names (about half the graph's bytes).

    Inputs, outputs and weights keep their names; only the ids of activations change."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    keep = {t.name for t in graph.input} | {t.name for t in graph.output} | {t.name for t in graph.initializer}
    short: dict[str, str] = {}

    def rename(name: str) -> str:
        if not name or name in keep:
            return name
        return short.setdefault(name, f"t{len(short)}")

    for node in graph.node:
        node.name = ""
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
    for info in graph.value_info:
        info.name = rename(info.name)
    model.producer_name = "scenebrush_trainer (torch.onnx TorchScript exporter)"
    onnx.save(model, str(path))


def export_generator(generator: nn.Module, num_classes: int, path: Path, seed: int = 0, norm: str = "running") -> float:
    """Writes the generator to `path` (atomically) and returns the max abs difference onnxruntime vs PyTorch."""
    net = GeneratorGraph(inference_copy(generator, norm))
    g = generator_ref(generator)
    label, z = example_inputs(num_classes, g.z_dim, g.height, g.width, batch=2, seed=seed)
    args = (label, z) if g.z_dim > 0 else (label,)
    inputs = ["label", "z"] if g.z_dim > 0 else ["label"]
    return _export_checked(net, args, path, inputs, ["image"])


def export_encoder(
    encoder: nn.Module, height: int, width: int, path: Path, seed: int = 0, norm: str = "running"
) -> float:
    net = inference_copy(encoder, norm)
    image = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return _export_checked(net, (image,), path, ["image"], ["mu", "logvar"])


def _export_checked(net, args, path: Path, inputs, outputs) -> float:
    with atomic_path(path) as tmp:
        _export(net, args, tmp, inputs, outputs)
        diff = verify(tmp, net, args, inputs)
        if not diff < TOLERANCE:
            raise ExportError(
                f"{path}: onnxruntime output differs from PyTorch by {diff:.3g} (limit {TOLERANCE}); "
                "the ONNX file was not written"
            )
    return diff


def verify(onnx_path, net: nn.Module, args: tuple, inputs: list[str]) -> float:
    """Max abs difference between onnxruntime and PyTorch on the same inputs, over all outputs."""
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(str(onnx_path))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    got = sess.run(None, {name: a.numpy() for name, a in zip(inputs, args)})
    with torch.no_grad():
        want = net(*args)
    want = want if isinstance(want, (tuple, list)) else (want,)
    diffs = [float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want)]
    if any(not np.isfinite(g).all() for g in got):
        return float("inf")
    return max(diffs)


def example_inputs(num_classes: int, z_dim: int, height: int, width: int, batch: int = 1, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    label = torch.randint(0, num_classes, (batch, height, width), generator=gen)
    z = torch.randn(batch, z_dim, generator=gen) if z_dim > 0 else None
    return label, z


def generator_ref(generator: nn.Module):
    """Size facts of a generator (unwrapping DDP)."""
    g = generator.module if hasattr(generator, "module") else generator
    g.height, g.width = g.sh * 2**g.num_up, g.sw * 2**g.num_up
    return g
