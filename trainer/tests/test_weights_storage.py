"""Weights stored as float16 (export.weights_fp16) and `repack`, on copies of the committed fixture packages
(tests/fixtures: untrained, tiny, float32-stored)."""

import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import REPO
from PIL import Image

from scenebrush_trainer.cli import main
from scenebrush_trainer.export import repack
from scenebrush_trainer.export.from_onnx import onnx_weights
from scenebrush_trainer.export.weights_fp16 import MIN_ELEMENTS, SUFFIX, storage_of, to_float16, to_float32

FIXTURES = REPO / "tests" / "fixtures"
SPADE = FIXTURES / "models" / "fixture-spade-untrained"
ENCODER = FIXTURES / "style-models" / "fixture-spade-encoder-untrained"
INT8 = FIXTURES / "int8-models" / "fixture-spade-int8-untrained"


def copy(package, tmp_path):
    return shutil.copytree(package, tmp_path / "models" / package.name)


def snapshot(folder):
    """Every entry of the folder and of its parent (hidden ones too: staging folders), with the folder's bytes."""
    return (
        {p.name: p.read_bytes() for p in sorted(folder.iterdir())},
        sorted(p.name for p in folder.parent.iterdir()),
    )


def reference_run(path, package=SPADE):
    label = np.array(Image.open(package / "reference_label.png"), np.int64)[None]
    z = np.fromfile(package / "reference_z.f32", "<f4").reshape(1, -1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]).run(
        None, {"label": label, "z": z}
    )[0]


def test_float16_storage_matches_the_float32_graph_and_undoes_exactly(tmp_path):
    model = onnx.load(str(SPADE / "model.onnx"))
    assert storage_of(model) == "float32"
    big = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer
           if t.data_type == onnx.TensorProto.FLOAT and t.dims and np.prod(t.dims) >= MIN_ELEMENTS}  # fmt: skip
    assert big
    nodes = len(model.graph.node)
    assert to_float16(model) == len(big)
    assert storage_of(model) == "float16" and to_float16(model) == 0  # a second time: nothing left to do
    onnx.checker.check_model(model)
    # every node reads the same names as before; the casts come first and produce them
    assert len(model.graph.node) == nodes + len(big)
    assert {n.output[0] for n in model.graph.node[: len(big)]} == set(big)
    inits = {t.name: t for t in model.graph.initializer}
    assert all(inits[name + SUFFIX].data_type == onnx.TensorProto.FLOAT16 for name in big)
    path = tmp_path / "f16.onnx"
    onnx.save(model, str(path))
    assert path.stat().st_size < 0.75 * (SPADE / "model.onnx").stat().st_size  # the fixture has many small tensors

    want = np.fromfile(SPADE / "reference_image.f32", "<f4").reshape(1, 3, 192, 256)  # PyTorch, float32 weights
    got = reference_run(path)
    diff = np.abs(got - want)
    assert diff.mean() <= repack.MEAN_TOLERANCE and diff.max() < 1e-2, (diff.mean(), diff.max())
    assert diff.max() > 1e-6  # rounded for real

    # back to float32: the same graph as before, with the weights rounded to float16
    assert to_float32(model) == len(big) and storage_of(model) == "float32"
    assert len(model.graph.node) == nodes
    back = {t.name: t for t in model.graph.initializer}
    for name, values in big.items():
        assert back[name].data_type == onnx.TensorProto.FLOAT
        assert np.array_equal(onnx.numpy_helper.to_array(back[name]), values.astype(np.float16).astype(np.float32))
    onnx.save(model, str(path))
    assert np.array_equal(reference_run(path), got)


def test_onnx_runtime_folds_the_casts(tmp_path):
    """The session computes with float32 weights: no cast left after optimisation (same kernels, same speed)."""
    model = onnx.load(str(SPADE / "model.onnx"))
    casts = sum(n.op_type == "Cast" for n in model.graph.node)
    to_float16(model)
    onnx.save(model, str(tmp_path / "f16.onnx"))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(tmp_path / "f16.onnx"), opts, providers=["CPUExecutionProvider"])
    optimized = onnx.load(str(tmp_path / "optimized.onnx"))
    assert sum(n.op_type == "Cast" for n in optimized.graph.node) <= casts
    assert not any(t.data_type == onnx.TensorProto.FLOAT16 for t in optimized.graph.initializer)


def test_recover_reads_float16_weights_as_float32(tmp_path):
    pkg = copy(SPADE, tmp_path)
    before = onnx_weights(pkg / "model.onnx")
    assert repack.repack_package(pkg)["files"]["model.onnx"]["weights_converted"] > 0
    after = onnx_weights(pkg / "model.onnx")
    assert sorted(after) == sorted(before)
    for name, w in after.items():
        assert w.dtype == before[name].dtype
        assert np.array_equal(w.numpy(), before[name].numpy().astype(np.float16).astype(np.float32)) or (
            w.numel() < MIN_ELEMENTS and np.array_equal(w.numpy(), before[name].numpy())
        ), name


def test_repack_stores_float16_checks_records_and_a_second_run_changes_nothing(tmp_path, capsys):
    pkg = copy(ENCODER, tmp_path)
    sizes = {name: (pkg / name).stat().st_size for name in ("model.onnx", "encoder.onnx")}
    meta = json.loads((pkg / "model.json").read_text())
    assert "weights_storage" not in meta  # committed before the field existed: float32
    assert main(["repack", str(pkg)]) == 0
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event["event"] == "repacked" and event["weights_storage"] == "float16" and not event["unchanged"]
    for name, size in sizes.items():
        record = event["files"][name]
        assert record["bytes_before"] == size and record["bytes_after"] == (pkg / name).stat().st_size < size
        assert record["weights_converted"] > 0
        assert 0 < record["mean_abs_diff"] <= repack.MEAN_TOLERANCE and record["max_abs_diff"] < 1e-2
        assert storage_of(onnx.load(str(pkg / name))) == "float16"
    assert json.loads((pkg / "model.json").read_text()) == {**meta, "weights_storage": "float16"}
    assert not [p for p in pkg.parent.iterdir() if p.name.startswith(".")], "staging folder left behind"
    # the style encoder still gives the reference photo's style
    photo = np.array(Image.open(pkg / "reference_photo.png").convert("RGB"))
    image = (photo.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
    mu = ort.InferenceSession(str(pkg / "encoder.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"image": image}
    )[0]
    assert np.abs(mu.ravel() - np.fromfile(pkg / "reference_mu.f32", "<f4")).max() < 1e-2

    before = snapshot(pkg)
    assert main(["repack", str(pkg)]) == 0
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event["unchanged"] and all(f["weights_converted"] == 0 for f in event["files"].values())
    assert snapshot(pkg) == before

    # float32 undoes it: the files' sizes come back, the weights keep their float16 rounding
    assert main(["repack", str(pkg), "--weights-storage", "float32"]) == 0
    capsys.readouterr()
    assert json.loads((pkg / "model.json").read_text())["weights_storage"] == "float32"
    for name, size in sizes.items():
        assert abs((pkg / name).stat().st_size - size) < size // 50
        assert storage_of(onnx.load(str(pkg / name))) == "float32"


def test_repack_leaves_the_int8_variant_alone(tmp_path):
    pkg = copy(INT8, tmp_path)
    variant = (pkg / "model-int8.onnx").read_bytes()
    report = repack.repack_package(pkg)
    assert report["files"]["model-int8.onnx"] == {"note": "int8 variant: left as it is"}
    assert (pkg / "model-int8.onnx").read_bytes() == variant
    meta = json.loads((pkg / "model.json").read_text())
    assert meta["weights_storage"] == "float16" and "weights_storage" not in meta["variants"]["int8"]


def test_repack_is_atomic_when_a_later_file_fails(tmp_path, monkeypatch):
    """model.onnx passes its check, encoder.onnx fails: nothing in the package changes."""
    pkg = copy(ENCODER, tmp_path)
    before = snapshot(pkg)
    real = repack.compare

    def compare(a, b, meta):
        mean, worst = real(a, b, meta)
        return (mean, worst) if a.name == "model.onnx" else (1.0, 2.0)

    monkeypatch.setattr(repack, "compare", compare)
    with pytest.raises(repack.RepackError, match=r"encoder\.onnx: .* differ by 1 on average.*nothing was changed"):
        repack.repack_package(pkg)
    assert snapshot(pkg) == before


@pytest.mark.parametrize("damage", ["missing", "empty", "garbage", "truncated", "no-model-json", "not-a-folder"])
def test_repack_refuses_bad_packages_clearly_and_changes_nothing(tmp_path, capsys, damage):
    pkg = copy(SPADE, tmp_path)
    target = pkg / "model.onnx"
    if damage == "missing":
        target.unlink()
        needle = f"{target} not found"
    elif damage == "empty":
        target.write_bytes(b"")
        needle = f"{target}: cannot read it as an ONNX file"
    elif damage == "garbage":
        target.write_bytes(b"\x00garbage" * 100)
        needle = f"{target}: cannot read it as an ONNX file"
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
        needle = f"{target}: cannot read it as an ONNX file"
    elif damage == "no-model-json":
        (pkg / "model.json").unlink()
        needle = f"cannot read {pkg / 'model.json'}"
    else:
        pkg = tmp_path / "nothing-here"
        needle = f"{pkg}: no such package folder"
    before = snapshot(pkg) if pkg.exists() else None
    assert main(["repack", str(pkg)]) == 1
    assert needle in capsys.readouterr().err
    if before is not None:
        assert snapshot(pkg) == before
