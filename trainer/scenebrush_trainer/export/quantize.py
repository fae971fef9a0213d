"""An int8 variant of a generator package: ONNX Runtime static quantization calibrated on training label maps.

The float graph stays `model.onnx`; the variant is written beside it as `model-int8.onnx` (QDQ format, int8
weights per output channel, uint8 activations: the u8 x s8 pair that AVX-512 VNNI / AVX-VNNI run natively).
What stays float, and why:
- the one-hot encoding of the label and the z projection (Gemm): exact integers / a tiny layer;
- normalisation (InstanceNormalization, per-image or folded batch norm): statistics need the float range;
- the last convolution, whose output goes through tanh to the RGB image: 8 bits before tanh band the colours.
Everything else among QUANTIZED_OPS runs in int8 so that consecutive layers pass int8 tensors without a
quantize / dequantize round trip (Conv alone gave 1.2x on the shipped SPADE, these ops 1.5x, same run).
"""

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..fileio import atomic_path

INT8_FILE = "model-int8.onnx"
QUANTIZED_OPS = ("Conv", "Add", "Mul", "LeakyRelu", "Resize")
METHOD = "QDQ, per-channel int8 weights, uint8 activations, MinMax calibration"


class QuantizationError(RuntimeError):
    pass


def calibration_feeds(labels: Iterable[np.ndarray], z_dim: int, seed: int = 0):
    """One feed per label map ([H, W] ints); z from the evaluation's stream (seed, index) so runs repeat."""
    from ..evaluation.evaluate import z_for

    for i, label in enumerate(labels):
        feed = {"label": np.asarray(label, dtype=np.int64)[None]}
        if z_dim:
            feed["z"] = z_for(seed, i, z_dim)[None]
        yield feed


def name_nodes(model) -> None:
    """The exporter leaves node names empty; the quantizer excludes nodes by name."""
    taken = {node.name for node in model.graph.node if node.name}
    for i, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{i}"
            while name in taken:
                name += "_"
            node.name = name
            taken.add(name)


def output_nodes_of_last_conv(model) -> list[str]:
    """Names of the Conv nodes whose output reaches the graph output through element-wise ops only (tanh ...)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    names, frontier = [], [o.name for o in model.graph.output]
    seen = set()
    while frontier:
        tensor = frontier.pop()
        node = producers.get(tensor)
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op_type == "Conv":
            names.append(node.name)
        elif node.op_type in ("Tanh", "Sigmoid", "Clip", "Identity", "Cast", "Add", "Mul", "Div", "Sub"):
            frontier.extend(node.input)
    return names


def convs_with_weights(model, parts: Iterable[str]) -> list[str]:
    """Names of the Conv nodes whose weight initializer's name contains one of `parts` (e.g. "ups.3.conv_s")."""
    parts = tuple(parts)
    return [n.name for n in model.graph.node if n.op_type == "Conv" and any(p in n.input[1] for p in parts)]


def quantize_generator(
    model_path: Path, out: Path, feeds: list[dict], keep_float: Iterable[str] = (), ops: Iterable[str] = QUANTIZED_OPS
) -> dict:
    """Writes the int8 graph of `model_path` to `out` (atomically); returns what model.json records about it.
    `keep_float`: parts of weight names (module paths, e.g. "ups.3.conv_s") whose convolutions stay float too;
    `ops`: the op types quantized."""
    ops, keep_float = list(ops), list(keep_float)
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not feeds:
        raise QuantizationError("no calibration label maps: give at least one (--calibration N with N >= 1)")

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(feeds)

        def get_next(self):
            return next(self.it, None)

    with tempfile.TemporaryDirectory(prefix="scenebrush-quantize-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        try:
            quant_pre_process(str(model_path), str(pre), skip_symbolic_shape=True)
            model = onnx.load(str(pre))
            name_nodes(model)
            onnx.save(model, str(pre))
            exclude = output_nodes_of_last_conv(model)
            exclude += [n for n in convs_with_weights(model, keep_float) if n not in exclude]
            with atomic_path(out) as tmp_out:
                quantize_static(
                    str(pre),
                    str(tmp_out),
                    Reader(),
                    quant_format=QuantFormat.QDQ,
                    per_channel=True,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8,
                    op_types_to_quantize=ops,
                    nodes_to_exclude=exclude,
                    calibrate_method=CalibrationMethod.MinMax,
                )
        except QuantizationError:
            raise
        except Exception as e:  # noqa: BLE001 -- onnx / onnxruntime raise many types
            raise QuantizationError(f"cannot quantize {model_path}: {e}") from e
    return {
        "file": out.name,
        "method": METHOD,
        "ops": ops,
        "keep_float": keep_float,
        "float_nodes": exclude,
        "calibration_layouts": len(feeds),
    }


def read_meta(package: Path) -> dict:
    import json

    path = Path(package) / "model.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise QuantizationError(f"cannot read {path}: {e}; give a model package folder") from e
    if not isinstance(meta, dict) or meta.get("kind") != "generator":
        raise QuantizationError(f"{path} is not a generator package: only generators get an int8 variant")
    return meta


def quantize_package(
    package: Path,
    labels: list[np.ndarray],
    seed: int = 0,
    out: Path | None = None,
    keep_float: Iterable[str] = (),
    ops: Iterable[str] = QUANTIZED_OPS,
) -> dict:
    """Writes PACKAGE/model-int8.onnx (or `out`: the `quantize` command stages it elsewhere until its gates pass)
    from PACKAGE/model.onnx, calibrated on `labels` ([H, W] class-id maps at the package's size); returns the
    `variants.int8` record for model.json (model.json itself is not touched). The record's `file` is always
    model-int8.onnx, the name the variant has in the package."""
    package = Path(package)
    meta = read_meta(package)
    if not (package / "model.onnx").is_file():
        raise QuantizationError(f"{package / 'model.onnx'} not found: the package has no network to quantize")
    feeds = list(calibration_feeds(labels, int(meta.get("z_dim") or 0), seed))
    record = quantize_generator(
        package / "model.onnx", Path(out) if out else package / INT8_FILE, feeds, keep_float, ops
    )
    record["file"] = INT8_FILE
    record["calibration_seed"] = seed
    return record


def record_variant(package: Path, name: str, record: dict | None) -> None:
    """Sets (or, with None, removes) `variants.<name>` in model.json, keeping every other field; atomic."""
    from .package import write_json_atomic

    meta = read_meta(package)
    variants = dict(meta.get("variants") or {})
    if record is None:
        variants.pop(name, None)
    else:
        variants[name] = record
    if variants:
        meta["variants"] = variants
    else:
        meta.pop("variants", None)
    write_json_atomic(Path(package) / "model.json", meta)
