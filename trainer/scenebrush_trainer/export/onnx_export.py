"""ONNX export of generators and style encoders, checked against PyTorch with onnxruntime."""

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..fileio import atomic_path
from ..networks.inference import inference_copy
from .weights_fp16 import DEFAULT_STORAGE, store_weights

OPSET = 17
# the float32 graph against PyTorch: the export itself is right
TOLERANCE = 1e-4
# the file as written with its weights stored as float16 (weights_fp16), against PyTorch's float32 weights: each
# weight rounded to 11 significant bits moves an output of order 1 by about 1e-5 on average and a few 1e-4 at
# most (shipped SPADE and CC-FPSE: mean 3e-5, max 5e-4); a wrong graph or a damaged weight is far above both
FLOAT16_MEAN_TOLERANCE = 1e-3
FLOAT16_MAX_TOLERANCE = 1e-2


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


def export_generator(
    generator: nn.Module,
    num_classes: int,
    path: Path,
    seed: int = 0,
    norm: str = "running",
    weights_storage: str = DEFAULT_STORAGE,
) -> float:
    """Writes the generator to `path` (atomically) and returns the max abs difference onnxruntime vs PyTorch
    of the file as written (weights stored as `weights_storage`: see weights_fp16)."""
    net = GeneratorGraph(inference_copy(generator, norm))
    g = generator_ref(generator)
    label, z = example_inputs(num_classes, g.z_dim, g.height, g.width, batch=2, seed=seed)
    args = (label, z) if g.z_dim > 0 else (label,)
    inputs = ["label", "z"] if g.z_dim > 0 else ["label"]
    return _export_checked(net, args, path, inputs, ["image"], weights_storage)


def export_encoder(
    encoder: nn.Module,
    height: int,
    width: int,
    path: Path,
    seed: int = 0,
    norm: str = "running",
    weights_storage: str = DEFAULT_STORAGE,
) -> float:
    net = inference_copy(encoder, norm)
    image = torch.rand(2, 3, height, width, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return _export_checked(net, (image,), path, ["image"], ["mu", "logvar"], weights_storage)


def _export_checked(net, args, path: Path, inputs, outputs, weights_storage: str = "float32") -> float:
    """Exports, checks the float32 graph against PyTorch (TOLERANCE), then, for float16 weights, stores them so
    and checks the final file again (FLOAT16_*_TOLERANCE). Returns the final file's max abs difference."""
    with atomic_path(path) as tmp:
        _export(net, args, tmp, inputs, outputs)
        want = pytorch_outputs(net, args)
        diff, _ = differences(tmp, net, args, inputs, want)
        if not diff < TOLERANCE:
            raise ExportError(
                f"{path}: onnxruntime output differs from PyTorch by {diff:.3g} (limit {TOLERANCE}); "
                "the ONNX file was not written"
            )
        if weights_storage != "float32" and store_weights(tmp, tmp, weights_storage):
            diff, mean = differences(tmp, net, args, inputs, want)
            if not (mean <= FLOAT16_MEAN_TOLERANCE and diff <= FLOAT16_MAX_TOLERANCE):
                raise ExportError(
                    f"{path}: with its weights stored as {weights_storage}, onnxruntime output differs from "
                    f"PyTorch by {mean:.3g} on average, {diff:.3g} at most (limits {FLOAT16_MEAN_TOLERANCE}, "
                    f"{FLOAT16_MAX_TOLERANCE}); the ONNX file was not written (export with --weights-storage "
                    "float32 to keep float32 weights)"
                )
    return diff


def pytorch_outputs(net: nn.Module, args: tuple) -> tuple:
    with torch.no_grad():
        want = net(*args)
    return tuple(want) if isinstance(want, (tuple, list)) else (want,)


def differences(onnx_path, net: nn.Module, args: tuple, inputs: list[str], want=None) -> tuple[float, float]:
    """Max and mean abs difference between onnxruntime and PyTorch on the same inputs, over all outputs
    (inf for both when onnxruntime gives a non-finite value). `want`: PyTorch's outputs, when already known."""
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(str(onnx_path))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    got = sess.run(None, {name: a.numpy() for name, a in zip(inputs, args)})
    want = pytorch_outputs(net, args) if want is None else want
    if any(not np.isfinite(g).all() for g in got):
        return float("inf"), float("inf")
    abs_diffs = [np.abs(g - w.numpy()) for g, w in zip(got, want)]
    total = sum(d.size for d in abs_diffs)
    return max(float(d.max()) for d in abs_diffs), float(sum(d.sum(dtype=np.float64) for d in abs_diffs) / total)


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
