"""The segmenter architectures beyond ENet (FC-DenseNet56, DABNet): shapes, a few training steps on tiny
synthetic CamVid pairs, export to ONNX with onnxruntime matching PyTorch, flip-averaged export, clear errors."""

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from scenebrush_trainer.cli import main
from scenebrush_trainer.evaluation.fixtures import tiny_camvid
from scenebrush_trainer.export.segmenter import (
    FlipAveraged,
    export_segmenter,
    export_segmenter_onnx,
    segmenter_from_checkpoint,
)
from scenebrush_trainer.networks.inference import inference_copy
from scenebrush_trainer.networks.segmenter import build_segmenter, segmenter_architectures
from scenebrush_trainer.training.segmenter import SegmenterConfig, train_segmenter

C = 12
NEW = ["fcdensenet56", "dabnet"]
# narrow widths keep the training and export tests at a second or two on one thread
TEST_WIDTH = {"fcdensenet56": 0.5, "dabnet": 0.5}


@pytest.fixture(scope="module")
def camvid_tiny(tmp_path_factory):
    return tiny_camvid(tmp_path_factory.mktemp("camvid"), train=4, val=2, height=64, width=64, real=False)


def photo(n=2, h=64, w=64, seed=0):
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_the_registry_knows_every_architecture():
    assert list(segmenter_architectures()) == ["enet", *NEW]


@pytest.mark.parametrize("arch", NEW)
def test_logits_have_the_photo_size_and_the_class_count(arch):
    net = build_segmenter(arch, C, 64, 96).eval()
    with torch.no_grad():
        out = net(photo(2, 64, 96))
    assert out.shape == (2, C, 64, 96) and torch.isfinite(out).all()
    assert (net.num_classes, net.height, net.width) == (C, 64, 96)


@pytest.mark.parametrize(("arch", "params"), [("fcdensenet56", (1.3e6, 1.5e6)), ("dabnet", (0.7e6, 0.8e6))])
def test_parameter_counts_match_the_papers(arch, params):
    n = sum(p.numel() for p in build_segmenter(arch, C, 192, 256).parameters())
    assert params[0] < n < params[1]


def test_width_mult_narrows_the_network():
    for arch in NEW:
        full, half = (sum(p.numel() for p in build_segmenter(arch, C, 64, 64, m).parameters()) for m in (1, 0.5))
        assert half < full / 2.5


@pytest.mark.parametrize(("arch", "multiple"), [("fcdensenet56", 32), ("dabnet", 8)])
def test_sizes_that_do_not_divide_are_refused(arch, multiple):
    with pytest.raises(ValueError, match=f"divisible by {multiple}"):
        build_segmenter(arch, C, 60 if multiple == 8 else 48, 64)


def test_an_unknown_architecture_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown segmenter architecture 'unet'; known: enet, fcdensenet56, dabnet"):
        build_segmenter("unet", C, 64, 64)


def test_the_cli_refuses_an_unknown_architecture(capsys):
    with pytest.raises(SystemExit):
        main(["train-segmenter", "--architecture", "unet"])
    err = capsys.readouterr().err
    assert "invalid choice: 'unet'" in err and "fcdensenet56" in err and "dabnet" in err


@pytest.fixture(scope="module")
def trained(camvid_tiny, tmp_path_factory):
    """Each new architecture after one epoch of 2 steps (batch 2) on 4 synthetic pairs: its run folder."""
    runs = {}
    for arch in NEW:
        out = tmp_path_factory.mktemp(arch)
        cfg = SegmenterConfig(architecture=arch, width_mult=TEST_WIDTH[arch], height=64, width=64, epochs=1,
                              batch_size=2, max_images=4)  # fmt: skip
        train_segmenter(cfg, out, camvid_tiny)
        runs[arch] = out
    return runs


@pytest.mark.parametrize("arch", NEW)
def test_training_steps_change_the_weights_with_a_finite_loss(trained, arch):
    out = trained[arch]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert len(log) == 1 and np.isfinite(log[0]["loss"]) and 0 <= log[0]["val_miou"] <= 1
    assert log[0]["cpu_seconds"] > 0
    ckpt = torch.load(out / "last.pt", weights_only=False)
    assert ckpt["config"]["architecture"] == arch and ckpt["config"]["width_mult"] == TEST_WIDTH[arch]
    torch.manual_seed(0)  # train_segmenter seeds with cfg.seed (0) before building: the same initial weights
    start = build_segmenter(arch, C, 64, 64, TEST_WIDTH[arch]).state_dict()
    changed = [k for k, v in ckpt["model"].items() if v.is_floating_point() and not torch.equal(v, start[k])]
    convs = [k for k, v in start.items() if k.endswith("weight") and v.dim() == 4]
    assert set(convs) <= set(changed)


@pytest.mark.parametrize("arch", NEW)
def test_resuming_with_another_architecture_is_refused(trained, camvid_tiny, arch):
    other = NEW[1 - NEW.index(arch)]
    cfg = SegmenterConfig(architecture=other, width_mult=TEST_WIDTH[arch], height=64, width=64, epochs=2,
                          batch_size=2, max_images=4)  # fmt: skip
    with pytest.raises(ValueError, match=f"architecture={arch!r}"):
        train_segmenter(cfg, trained[arch], camvid_tiny)


def run_onnx(path, image: torch.Tensor) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(["logits"], {"image": image.numpy()})[0]


@pytest.mark.parametrize("arch", NEW)
def test_the_exported_package_matches_pytorch_eval(trained, arch, tmp_path):
    result = export_segmenter(trained[arch] / "best.pt", tmp_path / "seg")
    meta = json.loads((tmp_path / "seg" / "model.json").read_text())
    assert meta["architecture"] == arch and meta["kind"] == "segmenter" and "flip_tta" not in meta["training"]
    assert meta["training"]["config"]["width_mult"] == TEST_WIDTH[arch]
    net, _ = segmenter_from_checkpoint(trained[arch] / "best.pt")
    image = photo(3, seed=1)
    with torch.no_grad():
        want = net(image).numpy()
    got = run_onnx(tmp_path / "seg" / "model.onnx", image)
    assert got.shape == (3, C, 64, 64)
    assert np.abs(got - want).max() < 1e-4 and result["max_abs_diff"] < 1e-4


@pytest.mark.parametrize("arch", ["enet", *NEW])
def test_flip_averaged_export_averages_the_photo_and_its_mirror(trained, arch, tmp_path):
    if arch == "enet":
        torch.manual_seed(0)
        net = build_segmenter("enet", C, 64, 64, 0.25).eval()
    else:
        net, _ = segmenter_from_checkpoint(trained[arch] / "best.pt")
    export_segmenter_onnx(net, tmp_path / "model.onnx", flip_tta=True)
    image = photo(2, seed=2)
    with torch.no_grad():
        plain = inference_copy(net)
        want = ((plain(image) + plain(image.flip(-1)).flip(-1)) / 2).numpy()
        assert torch.allclose(FlipAveraged(plain)(image), torch.from_numpy(want))
    got = run_onnx(tmp_path / "model.onnx", image)
    assert np.abs(got - want).max() < 1e-4
    # mirror-equivariant by construction: the mirrored photo gives the mirrored logits
    np.testing.assert_allclose(run_onnx(tmp_path / "model.onnx", image.flip(-1)), got[..., ::-1], atol=1e-4)


def test_the_flip_averaged_package_says_so(trained, tmp_path):
    main(["export-segmenter", "--checkpoint", str(trained["dabnet"] / "best.pt"), "--out", str(tmp_path / "seg"),
          "--flip-tta"])  # fmt: skip
    meta = json.loads((tmp_path / "seg" / "model.json").read_text())
    assert meta["training"]["flip_tta"] is True and meta["name"] == "DABNet segmenter (CamVid, 64x64, flip-averaged)"


def test_a_last_checkpoint_is_exported_with_its_own_epoch_and_scores(trained, tmp_path):
    """last.pt holds the last epoch's weights: the package states that epoch's val scores, not the best epoch's."""
    ckpt = torch.load(trained["dabnet"] / "last.pt", weights_only=False)
    # as after a run whose best epoch came earlier: `best` names another epoch with other scores
    ckpt["epoch"] = 7
    ckpt["scores"] = {**ckpt["scores"], "epoch": 7, "miou": 0.25}
    ckpt["best"] = {**ckpt["best"], "epoch": 3, "miou": 0.5}
    torch.save(ckpt, tmp_path / "last.pt")
    result = export_segmenter(tmp_path / "last.pt", tmp_path / "seg")
    meta = json.loads((tmp_path / "seg" / "model.json").read_text())
    assert result["metrics"]["epoch"] == meta["metrics"]["epoch"] == meta["training"]["epochs"] == 7
    assert meta["metrics"]["miou"] == 0.25
    assert meta["metrics"]["per_class_iou"] == ckpt["scores"]["per_class_iou"]


def test_a_checkpoint_from_before_stored_scores_takes_its_epoch_from_the_history(trained, tmp_path):
    ckpt = torch.load(trained["dabnet"] / "last.pt", weights_only=False)
    del ckpt["scores"]
    ckpt["history"] = [{**ckpt["history"][0], "epoch": 1, "val_miou": 0.125, "val_pixel_accuracy": 0.5},
                       {**ckpt["history"][0], "epoch": 2, "val_miou": 0.375, "val_pixel_accuracy": 0.75}]  # fmt: skip
    ckpt["epoch"], ckpt["best"] = 2, {"epoch": 1, "miou": 0.125, "pixel_accuracy": 0.5, "per_class_iou": {}}
    torch.save(ckpt, tmp_path / "old.pt")
    metrics = export_segmenter(tmp_path / "old.pt", tmp_path / "seg")["metrics"]
    assert (metrics["epoch"], metrics["miou"], metrics["pixel_accuracy"]) == (2, 0.375, 0.75)
    assert metrics["per_class_iou"] is None
