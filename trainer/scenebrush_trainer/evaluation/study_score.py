"""The study's scoring phase: every generator snapshot that exists and has no score yet is scored once, and the
result cached beside it (RUN/scores/step-NNNNNN.json), so it can run while training goes on, be stopped, and be
run again. Several scorers may run side by side (a lock per snapshot).

Each snapshot: `curve_images` val pairs evenly spaced over the split, z seed 0 -> mIoU, pixel accuracy, KID, FID
(the learning curves); the last step also the budget's `final_images` pairs x `final_seeds` (the table). The
generator runs in PyTorch (inference_copy: the exporter's network before tracing, equal to the ONNX package
within the exporter's 1e-4 check), scored by `evaluate` with the segmenter package as for any package.
"""

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.classes import class_list_from_json
from ..data.presets import DatasetSpec
from ..export.package import write_json_atomic
from ..fileio import atomic_path
from ..networks import build_generator
from ..networks.inference import inference_copy, inference_norm
from ..training import checkpoint
from ..training.config import ModelConfig, from_dict
from ..training.events import log
from .evaluate import EvalOptions, Package, evaluate, sanitize, select_pairs
from .fid import InceptionFeatures
from .locks import try_lock
from .report import to_uint8_hwc
from .study_plan import StudyBudget, ordered_runs
from .study_train import run_dir, score_path, snapshot_path

SAMPLE_LAYOUTS = 4  # generated images kept per snapshot for the sample grid


class TorchSession:
    """onnxruntime's session.run, answered by a PyTorch generator."""

    def __init__(self, net: torch.nn.Module):
        self.net = net

    @torch.no_grad()
    def run(self, _names, feed):
        z = torch.from_numpy(feed["z"]) if "z" in feed else None
        return [self.net(torch.from_numpy(feed["label"]), z).numpy()]


def snapshot_generator(path: Path) -> Package:
    snap = checkpoint.load(path) if Path(path).name == checkpoint.NAME else torch.load(path, weights_only=False)
    model = from_dict(ModelConfig, snap["model_config"])
    classes = class_list_from_json(snap["data"]["classes"], f"{path} (classes)")
    net = build_generator(model, len(classes))
    net.load_state_dict(snap["G"])
    net = inference_copy(net, inference_norm(snap["train_config"], world=snap.get("world", 1)))
    meta = {"kind": "generator", "id": f"{Path(path).parent.parent.name}@{snap['step']}", "height": model.height,
            "width": model.width, "z_dim": model.z_dim, "classes": classes.to_json(),
            "dontcare": classes.dontcare}  # fmt: skip
    return Package(Path(path), meta, TorchSession(net))


def curve_indices(count: int, total: int) -> tuple[int, ...]:
    return tuple(np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int)).tolist())


def sample_positions(count: int) -> tuple[int, ...]:
    return curve_indices(SAMPLE_LAYOUTS, count)


def samples_path(out: Path, step: int) -> Path:
    return Path(out) / "scores" / f"step-{step:06d}-samples.png"


SCORE_KEYS = ("miou", "pixel_accuracy", "kid", "kid_se", "fid", "seed_diversity", "per_class_iou", "seeds",
              "generated", "resolution", "segmenter_resolution", "upscale", "artefacts")  # fmt: skip


def summary(report: dict) -> dict:
    return {**{k: report.get(k) for k in SCORE_KEYS}, "images": report["data"]["images"],
            "real_miou": report["segmenter"]["real_miou"], "seconds": report["seconds"]}  # fmt: skip


def segmenter_identity(seg: Path) -> dict:
    """Which ruler scored a snapshot: the package's id and architecture, and its graph's hash (a retrained
    segmenter keeps the id `camvid-segmenter`). Scores by two segmenters are never mixed (is_cached, the report)."""
    seg = Path(seg)
    try:
        meta = json.loads((seg / "model.json").read_text())
        digest = hashlib.sha256((seg / "model.onnx").read_bytes()).hexdigest()[:16]
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"segmenter package {seg}: {e}; give a segmenter package folder with --segmenter") from e
    return {"id": meta.get("id"), "architecture": meta.get("architecture"), "onnx_sha256": digest}


def score_snapshot(path: Path, step: int, budget: StudyBudget, seg: Path, val: DatasetSpec, indices, inception,
                   threads: int, ruler: dict) -> tuple[dict, list]:  # fmt: skip
    gen = snapshot_generator(path)
    keep = sample_positions(len(indices))
    curve = evaluate(gen, seg, val, EvalOptions(seeds=(0,), indices=indices, keep=keep, threads=threads), inception)
    entry = {"step": step, "snapshot": str(path), "scoring": budget.scoring(), "segmenter": ruler,
             "curve": summary(curve), "sample_layouts": [indices[i] for i in keep]}  # fmt: skip
    if step == budget.steps:
        final = evaluate(gen, seg, val, EvalOptions(seeds=budget.final_seeds, max_images=budget.final_images,
                                                    threads=threads), inception)  # fmt: skip
        entry["final"] = summary(final)
    return entry, [curve["kept_images"][i] for i in keep]


def save_strip(path: Path, images: list) -> None:
    strip = np.concatenate([to_uint8_hwc(im) for im in images], axis=1)
    with atomic_path(path) as tmp:
        Image.fromarray(strip).save(tmp, format="PNG")


def score_study(budget: StudyBudget, work: Path, seg: Path, val: DatasetSpec, threads: int = 1,
                only: tuple[str, ...] = ()) -> dict:  # fmt: skip
    """Scores every unscored snapshot of the plan's runs (or of the cells in `only`); returns counts."""
    torch.set_num_threads(threads)
    indices = curve_indices(budget.curve_images, len(select_pairs(val, EvalOptions())))
    inception = None
    counts = {"scored": 0, "cached": 0, "locked": 0, "seconds": 0.0, "cpu_seconds": 0.0}
    ruler = segmenter_identity(seg)
    for run in ordered_runs(budget, only):
        out = run_dir(work, run)
        for step in budget.snapshot_steps():
            snap, target = snapshot_path(out, step), score_path(out, step)
            if not snap.exists():
                continue
            if is_cached(target, budget, ruler):
                counts["cached"] += 1
                continue
            with try_lock(target.parent / f".{target.stem}.lock") as held:
                if not held or is_cached(target, budget, ruler):
                    counts["locked" if not held else "cached"] += 1
                    continue
                t0, c0 = time.time(), time.process_time()
                inception = inception or InceptionFeatures()
                entry, images = score_snapshot(snap, step, budget, seg, val, indices, inception, threads, ruler)
                entry["seconds"] = round(time.time() - t0, 1)
                entry["cpu_seconds"] = round(time.process_time() - c0, 1)  # wall time depends on the machine's load
                save_strip(samples_path(out, step), images)
                write_json_atomic(target, sanitize(entry))
                counts["scored"] += 1
                counts["seconds"] += entry["seconds"]
                counts["cpu_seconds"] += entry["cpu_seconds"]
                c = entry["curve"]
                log.info("study score: %s step %d: mIoU %.4f, KID %s, FID %s (%.0f s, %.0f CPU-s)", run.name, step,
                         c["miou"], fmt_or_na(c["kid"], 4), fmt_or_na(c["fid"], 1), entry["seconds"],
                         entry["cpu_seconds"])  # fmt: skip
    counts["seconds"], counts["cpu_seconds"] = round(counts["seconds"], 1), round(counts["cpu_seconds"], 1)
    return counts


def is_cached(target: Path, budget: StudyBudget, ruler: dict) -> bool:
    """A score computed with the budget's scoring settings by this segmenter (one made otherwise is made again)."""
    if not target.exists():
        return False
    try:
        entry = json.loads(target.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return entry.get("scoring") == budget.scoring() and entry.get("segmenter") == ruler


def fmt_or_na(v, digits: int) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def read_scores(out: Path) -> dict[int, dict]:
    scores = {}
    for p in sorted((Path(out) / "scores").glob("step-*.json")):
        entry = json.loads(p.read_text())
        scores[int(entry["step"])] = entry
    return scores
