"""Export: the package contract, onnxruntime parity, dynamic batch, failure leaves nothing behind."""

import copy
import json

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
import pytest
import torch
from conftest import train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.export import onnx_export
from scenebrush_trainer.export.from_checkpoint import export_checkpoint
from scenebrush_trainer.networks import inference

CONTRACT_KEYS = {"format", "id", "name", "kind", "architecture", "discriminator", "height", "width", "classes",
                 "dontcare", "z_dim", "training", "metrics", "license", "weights_storage"}  # fmt: skip


@pytest.fixture(scope="module")
def ckpt(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    assert (
        main(train_args(tiny_data, out, "--generator", "ccfpse", "--steps", "2", "--events", str(out) + ".jsonl")) == 0
    )
    return out / "checkpoint.pt"


def test_package_follows_the_contract(ckpt, tmp_path, capsys):
    pkg = tmp_path / "models" / "my-model"
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(pkg), "--name", "Mine"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # the file as written: weights stored as float16 by default (the float32 graph itself passed 1e-4 first)
    assert result["event"] == "exported" and result["max_abs_diff"]["model.onnx"] < onnx_export.FLOAT16_MAX_TOLERANCE
    assert result["weights_storage"] == "float16"
    assert sorted(p.name for p in pkg.iterdir()) == ["model.json", "model.onnx"]
    meta = json.loads((pkg / "model.json").read_text())
    assert set(meta) == CONTRACT_KEYS
    assert meta["format"] == 1 and meta["id"] == "my-model" and meta["name"] == "Mine" and meta["kind"] == "generator"
    assert meta["architecture"] == "ccfpse" and meta["dontcare"] == 11 and meta["z_dim"] == 32
    assert [c["id"] for c in meta["classes"]] == list(range(12)) and meta["classes"][0]["name"] == "Sky"
    t = meta["training"]
    assert t["images"] == 4 and t["seed"] == 0 and "scenebrush_trainer" in t["trainer"]
    assert t["config"]["vgg_loss"] is False and t["config"]["ngf"] == 4
    assert t["config"]["inference_norm"] == "per-image"  # trained with batch size 1
    assert meta["metrics"] is None and meta["license"] and meta["weights_storage"] == "float16"

    model = onnx.load(str(pkg / "model.onnx"))
    assert model.opset_import[0].version >= 17
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)
    ops = {n.op_type for n in model.graph.node}
    assert {"Slice", "Mul", "Add", "Equal", "Cast"} <= ops
    assert not ops & {"BatchNormalization", "Im2Col", "Col2Im", "RandomNormal", "RandomNormalLike"}, ops
    assert "InstanceNormalization" in ops
    sess = ort.InferenceSession(str(pkg / "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in sess.get_inputs()}
    assert inputs["label"].type == "tensor(int64)" and inputs["label"].shape[1:] == [64, 64]
    assert inputs["z"].shape[1:] == [32]
    assert sess.get_outputs()[0].name == "image"


def trained_generator(ckpt):
    from scenebrush_trainer.networks import build_generator
    from scenebrush_trainer.training import checkpoint
    from scenebrush_trainer.training.config import ModelConfig, from_dict

    c = checkpoint.load(ckpt)
    g = build_generator(from_dict(ModelConfig, c["model_config"]), 12)
    g.load_state_dict(c["ema"] or c["G"])
    return g.eval()


def as_in_training(g):
    """The generator normalising as in a training step (batch statistics), spectral norm as in eval."""
    g = copy.deepcopy(g)
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean = m.running_var = None
    return g


@pytest.mark.parametrize("norm", ["per-image", "running"])
def test_onnx_matches_pytorch_for_any_batch_size(ckpt, tmp_path, norm):
    """per-image: each image as a batch-1 training step made it; running: eval mode's running statistics."""
    pkg = tmp_path / "p"
    # float32 weights: the graph's own parity with PyTorch, at 1e-4 (float16 storage: test_weights_storage_...)
    assert export_checkpoint(ckpt, pkg, "p", norm=norm, weights_storage="float32")["norm"] == norm
    g = trained_generator(ckpt)
    train_like = as_in_training(g)
    sess = ort.InferenceSession(str(pkg / "model.onnx"), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        label = torch.randint(0, 12, (n, 64, 64))
        z = torch.randn(n, 32)
        with torch.no_grad():
            per_image = torch.cat([train_like(label[i : i + 1], z[i : i + 1]) for i in range(n)]).numpy()
            running = g(label, z).numpy()
        got = sess.run(None, {"label": label.numpy(), "z": z.numpy()})[0]
        want, other = (per_image, running) if norm == "per-image" else (running, per_image)
        assert got.shape == (n, 3, 64, 64) and np.abs(got - want).max() < 1e-4
        assert np.abs(got - other).max() > 1e-3  # the two choices really differ


def test_auto_norm_follows_the_training_batch_size(ckpt, tmp_path, capsys):
    assert inference.inference_norm({"batch_size": 1}) == "per-image"
    assert inference.inference_norm({"batch_size": 8}) == "running"
    assert inference.inference_norm({"batch_size": 1}, "running") == "running"
    with pytest.raises(ValueError, match="--norm 'instance'"):
        inference.inference_norm({"batch_size": 1}, "instance")
    pkg = tmp_path / "r"
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(pkg), "--norm", "running"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["norm"] == "running"
    assert json.loads((pkg / "model.json").read_text())["training"]["config"]["inference_norm"] == "running"
    assert "InstanceNormalization" not in {n.op_type for n in onnx.load(str(pkg / "model.onnx")).graph.node}


def test_a_failed_check_fails_loudly_and_leaves_no_package(ckpt, tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_export, "TOLERANCE", 0.0)  # nothing can pass
    pkg = tmp_path / "bad"
    with pytest.raises(onnx_export.ExportError, match="differs from PyTorch"):
        export_checkpoint(ckpt, pkg, "bad")
    assert not (pkg / "model.json").exists() and not (pkg / "model.onnx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_weights_storage_float16_halves_the_file_and_matches_float32(ckpt, tmp_path, capsys):
    f16, f32 = tmp_path / "f16", tmp_path / "f32"
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(f16), "--norm", "running"]) == 0
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(f32), "--norm", "running",
                 "--weights-storage", "float32"]) == 0  # fmt: skip
    results = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["weights_storage"] for r in results] == ["float16", "float32"]
    assert results[1]["max_abs_diff"]["model.onnx"] < onnx_export.TOLERANCE
    assert json.loads((f32 / "model.json").read_text())["weights_storage"] == "float32"
    size16, size32 = ((p / "model.onnx").stat().st_size for p in (f16, f32))
    assert size16 < 0.6 * size32, (size16, size32)
    model = onnx.load(str(f32 / "model.onnx"))
    assert not any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)
    label = torch.randint(0, 12, (3, 64, 64), generator=torch.Generator().manual_seed(5)).numpy()
    z = torch.randn(3, 32, generator=torch.Generator().manual_seed(6)).numpy()
    a, b = (ort.InferenceSession(str(p / "model.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"label": label, "z": z})[0] for p in (f16, f32))  # fmt: skip
    diff = np.abs(a - b)
    assert diff.mean() <= onnx_export.FLOAT16_MEAN_TOLERANCE and diff.max() <= onnx_export.FLOAT16_MAX_TOLERANCE
    assert diff.max() > 0  # the weights really were rounded


def test_a_failed_float16_check_leaves_no_package(ckpt, tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_export, "FLOAT16_MAX_TOLERANCE", 0.0)  # rounding always moves something
    pkg = tmp_path / "bad"
    with pytest.raises(onnx_export.ExportError, match="stored as float16.*--weights-storage float32"):
        export_checkpoint(ckpt, pkg, "bad")
    assert not pkg.exists() or not any(pkg.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


def test_export_errors_are_clear(ckpt, tmp_path, capsys):
    assert main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--out", str(tmp_path / "x")]) == 1
    assert "no checkpoint at" in capsys.readouterr().err
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00" * 100)
    assert main(["export", "--checkpoint", str(garbage), "--out", str(tmp_path / "x")]) == 1
    assert "cannot read checkpoint" in capsys.readouterr().err
    assert main(["export", "--checkpoint", str(ckpt), "--out", str(tmp_path / "x"), "--id", "Bad Id"]) == 1
    assert "package id" in capsys.readouterr().err


def assert_same_onnx(fresh, committed, what: str, atol: float = 1e-5) -> None:
    """The same graph (nodes, their attributes and wiring, inputs and outputs, opsets), and initializers of the
    same names, types and shapes whose values agree within atol: spectral norm's power iteration is folded into
    the weights, and its last bits depend on the CPU's arithmetic, so the bytes may differ."""
    a, b = onnx.load(str(fresh)), onnx.load(str(committed))
    assert [(o.domain, o.version) for o in a.opset_import] == [(o.domain, o.version) for o in b.opset_import], what

    def same_tensor(x, y, name):
        x, y = onnx.numpy_helper.to_array(x), onnx.numpy_helper.to_array(y)
        assert x.dtype == y.dtype and x.shape == y.shape, f"{what} is stale: {name} has another type or shape"
        assert np.allclose(x, y, rtol=0, atol=atol), f"{what} is stale: {name} differs"

    for part in ("input", "output"):
        assert list(getattr(a.graph, part)) == list(getattr(b.graph, part)), f"{what} is stale: other {part}s"
    assert len(a.graph.node) == len(b.graph.node), f"{what} is stale: {len(a.graph.node)} nodes"
    for x, y in zip(a.graph.node, b.graph.node):
        assert (x.op_type, x.domain, x.input, x.output) == (y.op_type, y.domain, y.input, y.output), (what, x.name)
        assert [t.name for t in x.attribute] == [t.name for t in y.attribute], (what, x.name)
        for p, q in zip(x.attribute, y.attribute):
            if p.type == onnx.AttributeProto.TENSOR:  # Constant nodes: values, compared like initializers
                same_tensor(p.t, q.t, f"{x.name}.{p.name}")
            else:
                assert p == q, f"{what} is stale: {x.name}.{p.name} differs"
    inits, want = ({t.name: t for t in m.graph.initializer} for m in (a, b))
    assert sorted(inits) == sorted(want), f"{what} is stale: other initializers"
    for name, t in want.items():
        same_tensor(inits[name], t, name)


def test_fixture_packages_match_their_references_and_regenerate_identically(tmp_path):
    """tests/fixtures/models (read by the app's tests) is what scripts/make_fixtures.sh builds."""
    from conftest import REPO
    from PIL import Image

    from scenebrush_trainer.export.fixtures import FIXTURES, build_fixture

    for package_id in FIXTURES:
        committed = REPO / "tests" / "fixtures" / "models" / package_id
        assert committed.is_dir(), f"{committed} is missing: run scripts/make_fixtures.sh"
        assert (committed / "model.onnx").stat().st_size < 1 << 20
        meta = json.loads((committed / "model.json").read_text())
        assert meta["id"] == package_id and "untrained test fixture" in meta["name"]
        want = np.fromfile(committed / "reference_image.f32", "<f4")
        assert want.size == 3 * 192 * 256 and want.std() > 0.01
        z = np.fromfile(committed / "reference_z.f32", "<f4").reshape(1, meta["z_dim"])
        label = np.array(Image.open(committed / "reference_label.png"), np.int64)[None]
        assert label.shape == (1, 192, 256) and len(np.unique(label)) >= 5
        sess = ort.InferenceSession(str(committed / "model.onnx"), providers=["CPUExecutionProvider"])
        got = sess.run(None, {"label": label, "z": z})[0].ravel()
        assert np.abs(got - want).max() < 1e-4

        fresh = build_fixture(tmp_path, package_id)
        assert (fresh / "reference_label.png").read_bytes() == (committed / "reference_label.png").read_bytes()
        # z comes from torch.randn, whose vectorised kernels may differ in the last bits between CPUs
        assert np.abs(np.fromfile(fresh / "reference_z.f32", "<f4") - z.ravel()).max() < 1e-6, f"{package_id} z"
        assert_same_onnx(fresh / "model.onnx", committed / "model.onnx", f"{package_id}/model.onnx")
        # PyTorch's output differs in the last bits between CPUs (kernels per instruction set): a stale
        # reference differs by far more
        again = np.fromfile(fresh / "reference_image.f32", "<f4")
        assert np.abs(again - want).max() < 1e-5, f"{package_id}/reference_image.f32 is stale"


def test_encoder_fixture_packages_match_their_references_and_regenerate_identically(tmp_path):
    """tests/fixtures/style-models: generator packages with encoder.onnx (the app's style-from-a-photo tests)."""
    from conftest import REPO
    from PIL import Image

    from scenebrush_trainer.export.fixtures import ENCODER_FIXTURES, build_encoder_fixture, reference_photo

    for package_id, (arch, _, z_dim) in ENCODER_FIXTURES.items():
        committed = REPO / "tests" / "fixtures" / "style-models" / package_id
        assert committed.is_dir(), f"{committed} is missing: run scripts/make_fixtures.sh"
        assert sum(f.stat().st_size for f in committed.iterdir()) < 600 << 10, "keep the fixture small"
        meta = json.loads((committed / "model.json").read_text())
        assert (meta["id"], meta["architecture"], meta["z_dim"]) == (package_id, arch, z_dim)
        photo = np.array(Image.open(committed / "reference_photo.png").convert("RGB"))
        assert photo.shape == (192, 256, 3) and (photo == reference_photo()).all()
        want = np.fromfile(committed / "reference_mu.f32", "<f4")
        assert want.size == z_dim and want.std() > 0.05
        sess = ort.InferenceSession(str(committed / "encoder.onnx"), providers=["CPUExecutionProvider"])
        assert [i.name for i in sess.get_inputs()] == ["image"]
        assert [o.name for o in sess.get_outputs()] == ["mu", "logvar"]
        image = (photo.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        mu, logvar = sess.run(None, {"image": image})
        assert mu.shape == logvar.shape == (1, z_dim)
        assert np.abs(mu.ravel() - want).max() < 1e-4
        # another photo, another style
        other, _ = sess.run(None, {"image": image[:, ::-1].copy()})
        assert np.abs(other - mu).max() > 1e-2

        fresh = build_encoder_fixture(tmp_path, package_id)
        for name in ("model.onnx", "encoder.onnx"):
            assert_same_onnx(fresh / name, committed / name, f"{package_id}/{name}")
        again = np.fromfile(fresh / "reference_mu.f32", "<f4")
        assert np.abs(again - want).max() < 1e-5, f"{package_id}/reference_mu.f32 is stale"
