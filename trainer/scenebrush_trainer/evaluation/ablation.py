"""The generator x discriminator ablation: {SPADE, CC-FPSE} x {FP, FPSE} + SPADE x PatchGAN at two training-set
sizes, every run with the same budget and seed, trained with the trainer, exported, then scored by `evaluate`.

Work (checkpoints, packages, per-run results) lives in a work folder; a finished run is not trained again, an
interrupted one continues from its checkpoint, so the same command picks up where it stopped.
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.check import check_dataset
from ..data.presets import DatasetSpec
from ..export.from_checkpoint import export_checkpoint
from ..export.package import write_json_atomic
from ..networks import build_discriminator, build_generator
from ..networks.complexity import count_params
from ..training import checkpoint
from ..training.config import model_config, train_config
from ..training.events import Events, log
from ..training.loop import RunOptions, train
from .evaluate import EvalOptions, evaluate, read_package, sanitize, write_metrics
from .fid import InceptionFeatures
from .report import write_markdown, write_plot, write_samples
from .subsets import nested_subset

# (generator, discriminator) in the order of the seed's Table 1, then SPADE's original PatchGAN
COMBINATIONS = [("ccfpse", "fpse"), ("ccfpse", "fp"), ("spade", "fpse"), ("spade", "fp"), ("spade", "patchgan")]
SIZES = (200, 367)


@dataclass(frozen=True)
class Budget:
    name: str
    steps: int  # the same for every run
    batch_size: int
    preset: str  # the trainer's model preset (network widths)
    eval_images: int = 0  # val pairs scored; 0 = the whole split
    seeds: tuple[int, ...] = (0,)  # z seeds for evaluation
    seed: int = 0  # training seed
    threads: int = 2
    note: str = ""


BUDGETS = {
    "smoke": Budget("smoke", steps=2, batch_size=1, preset="tiny", eval_images=4,
                    note="plumbing check: numbers mean nothing"),
    "cpu-hour": Budget("cpu-hour", steps=300, batch_size=1, preset="small",
                       note="about an hour on a 2-core CPU with nothing else running"),
    "gpu": Budget("gpu", steps=20000, batch_size=8, preset="paper", threads=8,
                  note="the papers' widths; one GPU, about 440 epochs of 367 images"),
}  # fmt: skip


def run_name(gen: str, disc: str, size: int) -> str:
    return f"{gen}-{disc}-{size}"


def train_run(name: str, gen: str, disc: str, data: DatasetSpec, budget: Budget, size_hw, work: Path) -> dict:
    """Trains one combination to budget.steps (resuming a partial run); returns its checkpoint and times."""
    out = work / "runs" / name
    ckpt_path = out / "checkpoint.pt"
    timing_path = out / "train_time.json"
    seconds = json.loads(timing_path.read_text())["seconds"] if timing_path.exists() else 0.0
    done = checkpoint.load(ckpt_path)["step"] if ckpt_path.exists() else 0
    model = model_config(budget.preset, generator=gen, discriminator=disc, height=size_hw[0], width=size_hw[1])
    cfg = train_config(steps=budget.steps, batch_size=budget.batch_size, seed=budget.seed,
                       checkpoint_every=max(1, min(500, budget.steps)), sample_every=0, log_every=10)  # fmt: skip
    if done < budget.steps:
        log.info("ablation: training %s (%d images, %d steps)", name, len(check_dataset(data).pairs), budget.steps)
        t0 = time.time()
        events = Events(out / "events.jsonl")
        try:
            result = train(RunOptions(out=out, data=data, model=model, train=cfg, resume=done > 0), events)
        finally:
            events.close()
            seconds += time.time() - t0
            out.mkdir(parents=True, exist_ok=True)
            write_json_atomic(timing_path, {"seconds": seconds})
        if result.step < budget.steps:
            raise RuntimeError(f"{name} stopped at step {result.step} of {budget.steps}; run the same command again "
                               "to continue the ablation")  # fmt: skip
    return {"checkpoint": ckpt_path, "train_seconds": seconds, "model": model}


def params(model, num_classes: int) -> tuple[int, int]:
    return count_params(build_generator(model, num_classes)), count_params(build_discriminator(model, num_classes))


@dataclass(frozen=True)
class AblationOptions:
    budget: Budget
    train: DatasetSpec
    val: DatasetSpec
    segmenter: Path
    out: Path  # report folder
    work: Path
    sizes: tuple[int, ...] = SIZES
    samples: int = 4  # val layouts in the sample grid


def run_ablation(opts: AblationOptions) -> dict:
    budget, work = opts.budget, Path(opts.work)
    torch.set_num_threads(budget.threads)
    seg = read_package(opts.segmenter, "segmenter")
    size_hw = seg.size
    val_pairs = check_dataset(opts.val).pairs[: budget.eval_images or None]
    keep = tuple(np.linspace(0, len(val_pairs) - 1, min(opts.samples, len(val_pairs))).round().astype(int).tolist())
    inception = None
    results, images = [], {}
    for size in opts.sizes:
        data = nested_subset(opts.train, size, budget.seed, work / "data")
        for gen, disc in COMBINATIONS:
            name = run_name(gen, disc, size)
            trained = train_run(name, gen, disc, data, budget, size_hw, work)
            pkg = work / "packages" / name
            export_checkpoint(trained["checkpoint"], pkg, name)
            inception = inception or InceptionFeatures()
            eval_opts = EvalOptions(seeds=budget.seeds, threads=budget.threads, max_images=budget.eval_images,
                                    keep=keep)  # fmt: skip
            report = evaluate(pkg, opts.segmenter, opts.val, eval_opts, inception)
            write_metrics(pkg, report)
            images[name] = report.pop("kept_images")
            g_params, d_params = params(trained["model"], len(opts.train.classes))
            row = {
                "name": name, "generator": gen, "discriminator": disc, "images": size,
                "miou": report["miou"], "pixel_accuracy": report["pixel_accuracy"], "fid": report["fid"],
                "kid": report["kid"], "kid_se": report["kid_se"],
                "per_class_iou": report["per_class_iou"], "g_params": g_params, "d_params": d_params,
                "train_seconds": round(trained["train_seconds"], 1), "segmenter": report["segmenter"],
                "eval_images": report["data"]["images"], "seeds": report["seeds"],
            }  # fmt: skip
            write_json_atomic(work / "results" / f"{name}.json", sanitize(row))
            results.append(row)
            log.info("ablation: %s mIoU %.4f pixel acc %.4f FID %s", name, row["miou"], row["pixel_accuracy"],
                     row["fid"])  # fmt: skip
    summary = {
        "budget": asdict(budget),
        "sizes": list(opts.sizes),
        "resolution": list(size_hw),
        "train_data": str(opts.train.photos),
        "val_data": str(opts.val.photos),
        "segmenter": {"package": str(opts.segmenter), **results[0]["segmenter"]} if results else None,
        "runs": results,
        "sample_layouts": [val_pairs[i][1].name for i in keep],
    }
    out = Path(opts.out)
    write_json_atomic(out / "results.json", sanitize(summary))
    write_plot(out / "miou.png", summary)
    write_samples(out / "samples.png", summary, opts.val, val_pairs, keep, images, size_hw)
    write_markdown(out / "README.md", summary)
    return summary
