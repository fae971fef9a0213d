"""The segmenter as a model package of kind `segmenter`: model.onnx (image -> logits) checked with onnxruntime."""

import os
from pathlib import Path

import torch

from ..data.classes import class_list_from_json
from ..fileio import staging_folder
from ..networks.inference import inference_copy
from ..networks.segmenter import build_segmenter
from ..training.checkpoint import load
from .onnx_export import _export_checked
from .package import FORMAT, ID_PATTERN, trainer_version, write_json_atomic

DISPLAY = {"enet": "ENet", "fcdensenet56": "FC-DenseNet56", "dabnet": "DABNet"}
LICENSE = "CC BY-NC 4.0 (trained on CamVid: personal and research use only, non-commercial)"


def segmenter_from_checkpoint(path: Path) -> tuple[torch.nn.Module, dict]:
    ckpt = load(path)
    if "model" not in ckpt or "config" not in ckpt or "classes" not in ckpt:
        raise ValueError(f"{path} is not a segmenter checkpoint (made by `train-segmenter`)")
    cfg, classes = ckpt["config"], class_list_from_json(ckpt["classes"], str(path))
    net = build_segmenter(cfg["architecture"], len(classes), cfg["height"], cfg["width"], cfg["width_mult"])
    net.load_state_dict(ckpt["model"])
    return net.eval(), ckpt


class FlipAveraged(torch.nn.Module):
    """Test-time augmentation inside the graph: the logits of the photo and of its mirror image (mirrored back),
    averaged. Same inputs and outputs as the network; twice its inference cost."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net, self.height, self.width = net, net.height, net.width

    def forward(self, image):
        return (self.net(image) + self.net(image.flip(-1)).flip(-1)) * 0.5


def export_segmenter_onnx(net: torch.nn.Module, path: Path, seed: int = 0, flip_tta: bool = False) -> float:
    """Writes model.onnx atomically; returns the max abs difference onnxruntime vs PyTorch (< 1e-4 or it fails).
    `flip_tta`: the graph averages the logits over the photo and its horizontal mirror (FlipAveraged)."""
    net = inference_copy(net).to(memory_format=torch.contiguous_format)
    if flip_tta:
        net = FlipAveraged(net).eval()
    image = torch.rand(2, 3, net.height, net.width, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return _export_checked(net, (image,), path, ["image"], ["logits"])


def segmenter_json(package_id: str, ckpt: dict, metrics: dict | None, flip_tta: bool = False) -> dict:
    cfg, classes = ckpt["config"], class_list_from_json(ckpt["classes"])
    arch = cfg["architecture"]
    meta = {
        "format": FORMAT,
        "id": package_id,
        "name": f"{DISPLAY.get(arch, arch)} segmenter (CamVid, {cfg['height']}x{cfg['width']}"
        + (", flip-averaged)" if flip_tta else ")"),
        "kind": "segmenter",
        "architecture": cfg["architecture"],
        "discriminator": None,
        "height": cfg["height"],
        "width": cfg["width"],
        "classes": classes.to_json(),
        "dontcare": classes.dontcare,
        "z_dim": 0,
        "training": {
            "dataset": "CamVid",
            "images": ckpt.get("train_images") or cfg["max_images"] or 367,
            "epochs": ckpt.get("epoch"),  # of these weights (last.pt: the last epoch; best.pt: the best one)
            "planned_epochs": cfg["epochs"],
            "seed": cfg["seed"],
            "trainer": trainer_version(),
            "config": cfg,
        },
        "metrics": metrics,
        "license": LICENSE,
    }
    if flip_tta:  # an export choice: logits averaged over the photo and its mirror in the graph (absent: not)
        meta["training"]["flip_tta"] = True
    return meta


def checkpoint_scores(ckpt: dict) -> dict:
    """The val scores of the weights in `ckpt`, not of the run's best epoch: last.pt holds the last epoch's weights.
    Checkpoints from before `scores` was stored: best's when it is this epoch, else the epoch's log line (no
    per-class IoU)."""
    if "scores" in ckpt:
        return ckpt["scores"]
    epoch, best = ckpt.get("epoch"), ckpt.get("best") or {}
    if best.get("epoch") == epoch:
        return best
    for entry in ckpt.get("history", []):
        if entry.get("epoch") == epoch:
            return {"epoch": epoch, "miou": entry["val_miou"], "pixel_accuracy": entry["val_pixel_accuracy"]}
    return {"epoch": epoch}


def export_segmenter(
    checkpoint: Path, out: Path, package_id: str | None = None, readme: str | None = None, flip_tta: bool = False
) -> dict:
    """A package folder from a `train-segmenter` checkpoint; metrics are the checkpoint's val scores, measured
    without flip averaging (`evaluate` recomputes the package's own on the real photos it scores)."""
    out = Path(out)
    package_id = package_id or out.name
    if not ID_PATTERN.match(package_id):
        raise ValueError(f"package id {package_id!r}: use lowercase letters, digits, '.', '_' and '-'")
    net, ckpt = segmenter_from_checkpoint(checkpoint)
    own = checkpoint_scores(ckpt)
    metrics = {
        "split": "val",
        "miou": own.get("miou"),
        "pixel_accuracy": own.get("pixel_accuracy"),
        "fid": None,
        "per_class_iou": own.get("per_class_iou"),
        "epoch": own.get("epoch"),
    }
    meta = segmenter_json(package_id, ckpt, metrics, flip_tta)
    diff = write_segmenter_package(net, out, meta, readme, flip_tta)
    return {"package": str(out), "id": package_id, "max_abs_diff": diff, "metrics": metrics, "flip_tta": flip_tta}


def write_segmenter_package(
    net: torch.nn.Module, out: Path, meta: dict, readme: str | None = None, flip_tta: bool = False
) -> float:
    """Files are staged beside `out` and moved in with model.json last: a failed export leaves the old package."""
    out = Path(out)
    with staging_folder(out) as stage:
        diff = export_segmenter_onnx(net, stage / "model.onnx", flip_tta=flip_tta)
        if readme:
            (stage / "README.md").write_text(readme)
        write_json_atomic(stage / "model.json", meta)
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.json").unlink(missing_ok=True)  # invalid until the new files are in
        for f in sorted(stage.iterdir(), key=lambda p: p.name == "model.json"):
            os.replace(f, out / f.name)
    return diff
