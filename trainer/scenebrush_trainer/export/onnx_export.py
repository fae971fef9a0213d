"""ONNX export of generators and style encoders, checked against PyTorch with onnxruntime."""

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..fileio import atomic_path
from ..networks.inference import inference_copy

OPSET = 17
TOLERANCE = 1e-4


class ExportError(RuntimeError):
    pass


class GeneratorGraph(nn.Module):
    """The exported signature: label (and z when z_dim > 0) -> image."""

    def __init__(self, generator: nn.Module):
        super().__init__()
        self.generator = generator

    def forward(self, label, z=None):
        return self.generator(label, z)


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
