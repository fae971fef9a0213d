"""train-segmenter's process options: `--until` (stop after an epoch, continue later, with the same or another
`--epochs`) and `--device` (the GPU when there is one; a clear error when there is none)."""

import json

import pytest
import torch

from scenebrush_trainer.cli import main
from scenebrush_trainer.evaluation.fixtures import tiny_camvid
from scenebrush_trainer.training.segmenter import SegmenterConfig, lr_at, train_segmenter

# ENet at a quarter width on 4 synthetic 64x64 pairs: a second or two per epoch on one thread
CFG = SegmenterConfig(width_mult=0.25, height=64, width=64, epochs=3, batch_size=2, max_images=4)


@pytest.fixture(scope="module")
def camvid_tiny(tmp_path_factory):
    return tiny_camvid(tmp_path_factory.mktemp("camvid"), train=4, val=2, height=64, width=64, real=False)


def log(out):
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_until_stops_after_that_epoch_and_running_again_continues_bit_for_bit(camvid_tiny, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train_segmenter(CFG, whole, camvid_tiny)
    train_segmenter(CFG, parts, camvid_tiny, until=1)
    assert [e["epoch"] for e in log(parts)] == [1]
    assert torch.load(parts / "last.pt", weights_only=False)["epoch"] == 1
    train_segmenter(CFG, parts, camvid_tiny)
    assert [e["epoch"] for e in log(parts)] == [1, 2, 3]
    a, b = (torch.load(o / "last.pt", weights_only=False)["model"] for o in (whole, parts))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [e["loss"] for e in log(parts)] == [e["loss"] for e in log(whole)]


def test_continuing_with_other_epochs_follows_the_new_schedule(camvid_tiny, tmp_path):
    out = tmp_path / "run"
    main(["train-segmenter", "--out", str(out), "--data", str(camvid_tiny), "--width-mult", "0.25", "--height", "64",
          "--width", "64", "--batch-size", "2", "--max-images", "4", "--epochs", "50", "--until", "1"])  # fmt: skip
    main(["train-segmenter", "--out", str(out), "--data", str(camvid_tiny), "--width-mult", "0.25", "--height", "64",
          "--width", "64", "--batch-size", "2", "--max-images", "4", "--epochs", "2"])  # fmt: skip
    entries = log(out)
    assert [e["epoch"] for e in entries] == [1, 2]
    ckpt = torch.load(out / "last.pt", weights_only=False)
    assert ckpt["config"]["epochs"] == 2 and ckpt["epoch"] == 2
    assert entries[0]["lr"] == pytest.approx(lr_at(SegmenterConfig(epochs=50), 1))
    assert entries[1]["lr"] == 0.0  # annealed at the new end


def test_until_zero_is_refused_naming_the_option(capsys):
    with pytest.raises(SystemExit):
        main(["train-segmenter", "--until", "0"])
    assert "argument --until: must be 1 or more, got 0" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_device_cuda_without_a_gpu_says_so(camvid_tiny, tmp_path):
    with pytest.raises(ValueError, match="--device cuda: no CUDA GPU is available"):
        train_segmenter(CFG, tmp_path / "run", camvid_tiny, device="cuda")
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_run_leaves_checkpoints_that_load_on_a_cpu(camvid_tiny, tmp_path):
    from scenebrush_trainer.export.segmenter import segmenter_from_checkpoint

    train_segmenter(CFG, tmp_path / "run", camvid_tiny, device="cuda", until=1)
    net, ckpt = segmenter_from_checkpoint(tmp_path / "run" / "best.pt")
    assert ckpt["epoch"] == 1 and next(net.parameters()).device.type == "cpu"
