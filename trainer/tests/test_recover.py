"""recover-weights: a package without checkpoint.pt gets fine-tuning weights back from its model.onnx."""

import json

import pytest
import torch
from conftest import data_args, read_events, step_losses, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.export.from_onnx import onnx_difference
from scenebrush_trainer.networks import build_generator
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.config import ModelConfig, from_dict


def trained_package(tiny_data, root, gen, disc="fpse"):
    run, pkg = root / f"run-{gen}-{disc}", root / f"pkg-{gen}-{disc}"
    args = train_args(tiny_data, run, "--generator", gen, "--discriminator", disc, "--steps", "3", "--ema", "0.5",
                      "--events", str(root / f"{gen}-{disc}.jsonl"), "--export-to", str(pkg))  # fmt: skip
    assert main(args) == 0
    return run, pkg


def recover(tiny_data, pkg, d_from, out, capsys):
    code = main(["recover-weights", "--package", str(pkg), "--discriminator-from", str(d_from), "--out", str(out),
                 *data_args(tiny_data), "--images", "4"])  # fmt: skip
    return code, capsys.readouterr()


@pytest.mark.parametrize("norm", ["per-image", "running"])
@pytest.mark.parametrize("gen", ["spade", "ccfpse"])
def test_recovered_weights_reproduce_the_package_and_fine_tune(tiny_data, tmp_path, capsys, gen, norm):
    run, pkg = trained_package(tiny_data, tmp_path, gen)  # batch size 1: exported per image
    if norm == "running":
        assert main(["export", "--checkpoint", str(run), "--out", str(pkg), "--norm", norm]) == 0
    assert json.loads((pkg / "model.json").read_text())["training"]["config"]["inference_norm"] == norm
    code, io = recover(tiny_data, pkg, run, tmp_path / "rec", capsys)
    assert code == 0, io.err
    result = json.loads(io.out.strip().splitlines()[-1])
    assert result["max_abs_diff"] < 1e-3
    # CC-FPSE's affine batch norms need statistics only where they were folded into the weights
    assert (result["calibrated_batch_norms"] > 0) == (gen == "ccfpse" and norm == "running")

    ckpt = checkpoint.load(tmp_path / "rec")
    assert ckpt["weights_only"] and ckpt["model_config"]["generator"] == gen
    G = build_generator(from_dict(ModelConfig, ckpt["model_config"]), 12)
    G.load_state_dict(ckpt["G"])
    assert onnx_difference(pkg, G, 12, from_dict(ModelConfig, ckpt["model_config"]), norm) < 1e-3
    if norm == "per-image":  # the affine parameters come back exactly: the package's weights are the run's
        ema = checkpoint.load(run)["ema"]
        bn = [k for k in ema if k.endswith(("norm_0.weight", "norm_1.weight"))]
        assert all(torch.equal(G.state_dict()[k], ema[k].float()) for k in bn) and (gen == "spade" or bn)
    original_d = checkpoint.load(run)["D"]
    assert all(torch.equal(v, original_d[k]) for k, v in ckpt["D"].items())

    # in training mode (batch statistics, spectral norm re-estimated) it still makes the package's images
    events = tmp_path / "ft.jsonl"
    assert main(train_args(tiny_data, tmp_path / "ft", "--init-from", str(tmp_path / "rec"), "--steps", "2",
                           "--events", str(events))) == 0  # fmt: skip
    assert sorted(step_losses(read_events(events))) == [1, 2]


def test_recover_refuses_a_discriminator_that_does_not_fit(tiny_data, tmp_path, capsys):
    _, pkg = trained_package(tiny_data, tmp_path, "spade")
    other_run, _ = trained_package(tiny_data, tmp_path, "spade", disc="patchgan")
    code, io = recover(tiny_data, pkg, other_run, tmp_path / "rec", capsys)
    assert code == 1
    assert str(other_run) in io.err and "discriminator patchgan" in io.err
    assert not (tmp_path / "rec").exists()


def test_recover_names_a_damaged_model_onnx_and_writes_nothing(tiny_data, tmp_path, capsys):
    run, pkg = trained_package(tiny_data, tmp_path, "spade")
    (pkg / "model.onnx").write_bytes(b"not an onnx file")
    code, io = recover(tiny_data, pkg, run, tmp_path / "rec", capsys)
    assert code == 1 and str(pkg / "model.onnx") in io.err
    assert not (tmp_path / "rec").exists()


def test_recover_names_an_unknown_normalisation_and_writes_nothing(tiny_data, tmp_path, capsys):
    run, pkg = trained_package(tiny_data, tmp_path, "spade")
    meta = json.loads((pkg / "model.json").read_text())
    meta["training"]["config"]["inference_norm"] = "group"
    (pkg / "model.json").write_text(json.dumps(meta))
    code, io = recover(tiny_data, pkg, run, tmp_path / "rec", capsys)
    assert code == 1
    assert str(pkg / "model.json") in io.err and "'group'" in io.err
    assert not (tmp_path / "rec").exists()
