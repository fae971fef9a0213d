"""Re-stores the weights of an existing model package in place (weights_fp16), checked, atomically.

The float networks of the package (model.onnx, and encoder.onnx when there is one) are rewritten into a staging
folder beside the package, each checked against the file it replaces on a few deterministic inputs, and only
then moved in, model.json last. An error (a missing or unreadable file, an output check that fails) leaves the
package exactly as it was. Files already stored as asked are left alone, so repacking twice changes nothing the
second time.

The int8 variant (`variants.int8.file`) is left as it is: its convolutions are int8 already, and the float
weights it keeps (the z projection, the last convolution) cannot be checked this way: rounding them to float16
moves activations across int8 quantisation steps, so its output moves by about as much as int8 itself moves it
from the float network (the untrained fixture: mean 8e-3 both). `quantize` run on a float16-stored model.onnx
writes a variant whose remaining float weights are float32 (its pre-processing folds the casts).
"""

import json
import os
from pathlib import Path

import numpy as np

from ..fileio import staging_folder
from .package import write_json_atomic
from .weights_fp16 import DEFAULT_STORAGE, STORAGES, restore

# mean abs difference allowed between a file's outputs before and after (images in [-1, 1]): float16 weights move
# them by about 3e-5 on average (shipped SPADE, CC-FPSE)
MEAN_TOLERANCE = 1e-3
CHECK_INPUTS = 3
CHECK_SEED = 0


class RepackError(RuntimeError):
    pass


def read_meta(package: Path) -> dict:
    path = package / "model.json"
    if not package.is_dir():
        raise RepackError(f"{package}: no such package folder")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RepackError(f"cannot read {path}: {e}; give a model package folder") from e
    if not isinstance(meta, dict) or not isinstance(meta.get("classes"), list):
        raise RepackError(f"{path} is not a model package's model.json (no `classes` list)")
    return meta


def int8_file(meta: dict) -> str | None:
    record = (meta.get("variants") or {}).get("int8") if isinstance(meta.get("variants"), dict) else None
    file = record.get("file") if isinstance(record, dict) else None
    return file if isinstance(file, str) else None


def package_files(package: Path) -> list[str]:
    """The ONNX files to re-store: model.onnx, and encoder.onnx when present."""
    names = ["model.onnx"]
    if (package / "encoder.onnx").exists():
        names.append("encoder.onnx")
    for name in names:
        if not (package / name).is_file():
            raise RepackError(f"{package / name} not found (or not a file): the package is incomplete")
    return names


def check_feeds(sess, meta: dict, count: int = CHECK_INPUTS, seed: int = CHECK_SEED) -> dict:
    """Deterministic inputs for any of the package's networks: class ids for `label`, N(0, I) for `z`, uniform
    [-1, 1] for a photo; the sizes from model.json where the graph leaves a dimension open."""
    rng = np.random.default_rng(seed)
    h, w, classes = int(meta.get("height") or 0), int(meta.get("width") or 0), len(meta["classes"])
    known = {"label": (count, h, w), "z": (count, int(meta.get("z_dim") or 0)), "image": (count, 3, h, w)}
    feeds = {}
    for inp in sess.get_inputs():
        shape = known.get(inp.name) or tuple(count if i == 0 else d for i, d in enumerate(inp.shape))
        if not all(isinstance(d, int) and d > 0 for d in shape):
            raise RepackError(f"input {inp.name!r} of shape {inp.shape}: no size to check it with")
        if inp.type == "tensor(int64)":
            feeds[inp.name] = rng.integers(0, classes, shape, dtype=np.int64)
        elif inp.name == "z":
            feeds[inp.name] = rng.standard_normal(shape, dtype=np.float32)
        else:
            feeds[inp.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return feeds


def compare(before: Path, after: Path, meta: dict) -> tuple[float, float]:
    """Mean and max abs difference over every output of the two files, on check_feeds (one thread)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    outputs = []
    feeds = None
    for path in (before, after):
        try:
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 -- onnxruntime raises several types
            raise RepackError(f"{path}: onnxruntime cannot open it ({e})") from e
        feeds = feeds if feeds is not None else check_feeds(sess, meta)
        outputs.append(sess.run(None, feeds))
    diffs = [np.abs(a.astype(np.float64) - b) for a, b in zip(*outputs)]
    if not diffs or not all(np.isfinite(d).all() for d in diffs):
        return float("inf"), float("inf")
    total = sum(d.size for d in diffs)
    return float(sum(d.sum() for d in diffs) / total), float(max(d.max() for d in diffs))


def repack_package(package: Path, storage: str = DEFAULT_STORAGE) -> dict:
    """Stores the weights of `package`'s ONNX files as `storage` ("float16" or "float32"); returns what changed
    per file (sizes, weights converted, output differences). Atomic: see the module's docstring."""
    import onnx

    if storage not in STORAGES:
        raise RepackError(f"weights storage {storage!r}: choose {' or '.join(STORAGES)}")
    package = Path(package)
    meta = read_meta(package)
    names = package_files(package)
    report = {"package": str(package), "weights_storage": storage, "files": {}}
    if (variant := int8_file(meta)) is not None:
        report["files"][variant] = {"note": "int8 variant: left as it is"}
    with staging_folder(package) as stage:
        staged = []
        for name in names:
            src = package / name
            try:
                model = onnx.load(str(src))
                onnx.checker.check_model(model)  # an empty or foreign protobuf reads as a model without a graph
            except Exception as e:  # noqa: BLE001 -- a damaged file: protobuf and the checker raise several types
                raise RepackError(f"{src}: cannot read it as an ONNX file ({e}); nothing was changed") from e
            size = src.stat().st_size
            changed = restore(model, storage)
            if not changed:
                report["files"][name] = {"weights_converted": 0, "bytes": size, "note": f"already {storage}"}
                continue
            onnx.save(model, str(stage / name))
            try:
                onnx.checker.check_model(str(stage / name))
            except Exception as e:  # noqa: BLE001
                raise RepackError(
                    f"{src}: the re-stored graph fails the ONNX checker ({e}); nothing was changed"
                ) from e
            mean, worst = compare(src, stage / name, meta)
            if not mean <= MEAN_TOLERANCE:
                raise RepackError(
                    f"{src}: with its weights stored as {storage} the outputs differ by {mean:.3g} on average "
                    f"({worst:.3g} at most; limit {MEAN_TOLERANCE}); nothing was changed"
                )
            report["files"][name] = {
                "weights_converted": changed,
                "bytes_before": size,
                "bytes_after": (stage / name).stat().st_size,
                "mean_abs_diff": mean,
                "max_abs_diff": worst,
            }
            staged.append(name)
        new_meta = {**meta, "weights_storage": storage}
        report["unchanged"] = not staged and new_meta == meta
        if report["unchanged"]:
            return report
        write_json_atomic(stage / "model.json", new_meta)
        for name in [*staged, "model.json"]:  # model.json last, as the export does
            os.replace(stage / name, package / name)
    return report
