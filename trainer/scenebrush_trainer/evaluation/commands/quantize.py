"""`quantize`: an int8 variant of a generator package (model-int8.onnx), shipped only when it scores like the float
model.

ONNX Runtime static quantization (QDQ, int8 weights per channel, uint8 activations, MinMax) calibrated on a seeded
choice of the data's train label maps at the package's size. Then two gates (docs/evaluation.md): float and int8
images on the first val layouts may differ by at most --max-diff on average, and `evaluate`, run for each z seed on
its own, must find the int8 model's mean mIoU and FID within the float model's seed-to-seed spread. Only then is
model-int8.onnx moved into the package and `variants.int8` recorded in model.json; any failure leaves the package
as it was (--force ships a failing variant, recorded with "forced": true and its verdict)."""

import json
import os
import platform
from pathlib import Path

import numpy as np
import torch

from ...commands.argtypes import integer, number
from ...data.check import check_dataset
from ...data.dataset import PairedDataset
from ...data.presets import PRESETS, dataset_spec
from ...export.package import trainer_version, write_json_atomic
from ...export.quantize import INT8_FILE, QUANTIZED_OPS, QuantizationError, quantize_package, record_variant
from ...fileio import staging_folder
from ...training.events import log
from ..evaluate import EvalOptions, read_package, sanitize, select_pairs
from ..variant import CHECK_IMAGES, MAX_MEAN_ABS_DIFF, evaluation_gate, measure_speed, output_difference, with_session

NAME = "quantize"
HELP = "int8 variant of a generator package (model-int8.onnx), kept only if it scores like the float model"


def add_arguments(p) -> None:
    p.add_argument("package", type=Path, help="generator package folder, e.g. models/camvid-spade")
    p.add_argument("--dataset", choices=sorted(PRESETS), default="camvid", help="dataset preset (default camvid)")
    p.add_argument(
        "--data", metavar="DIR", help="the preset's root (default ../shared/data/camvid or $SCENEBRUSH_CAMVID)"
    )
    p.add_argument("--calibration", type=integer(1), default=64, metavar="N",
                   help="calibration label maps, a seeded choice from the calibration split (default 64)")  # fmt: skip
    p.add_argument("--calibration-split", default="train", help="where they come from (default train)")
    p.add_argument("--calibration-seed", type=integer(0, 2**32 - 1), default=0,
                   help="seed of the choice and of the calibration z (default 0)")  # fmt: skip
    p.add_argument("--ops", nargs="+", default=list(QUANTIZED_OPS), metavar="OP",
                   help=f"op types to quantize (default {' '.join(QUANTIZED_OPS)})")  # fmt: skip
    p.add_argument("--keep-float", nargs="+", default=[], metavar="PART",
                   help="convolutions whose weight name contains PART stay float too (e.g. conv_0 conv_1 conv_s: "
                   "the residual path of SPADE blocks); the last one before tanh always does")  # fmt: skip
    p.add_argument("--split", default="val", help="split the gates score on (default val)")
    p.add_argument("--seeds", type=integer(0, 2**32 - 1), nargs="+", default=[0, 1, 2],
                   help="z seeds, each scored on its own; two or more (default 0 1 2)")  # fmt: skip
    p.add_argument("--segmenter", type=Path, default=Path("models/camvid-segmenter"),
                   help="segmenter package (default models/camvid-segmenter)")  # fmt: skip
    p.add_argument("--max-diff", type=number(0), default=MAX_MEAN_ABS_DIFF,
                   help=f"largest mean |int8 - float| allowed on the check layouts, [-1, 1] scale "
                   f"(default {MAX_MEAN_ABS_DIFF})")  # fmt: skip
    p.add_argument("--check-images", type=integer(1), default=CHECK_IMAGES,
                   help=f"val layouts of the numeric check (default {CHECK_IMAGES})")  # fmt: skip
    p.add_argument("--max-images", type=integer(0), default=0, help="evaluate only the first N pairs (default all)")
    p.add_argument("--batch-size", type=integer(1), default=4)
    p.add_argument("--threads", type=integer(1), default=2, help="CPU threads for onnxruntime and PyTorch (default 2)")
    p.add_argument("--speed-runs", type=integer(0), default=10,
                   help="timed batch-1 runs of each network for the record (default 10; 0: not timed)")  # fmt: skip
    p.add_argument("--force", action="store_true",
                   help="ship the variant even if a gate fails (recorded as forced, with its verdict)")  # fmt: skip
    p.add_argument("--report", type=Path, help="also write the whole record, passed or not, to this JSON file")


def calibration_pairs(spec, count: int, seed: int) -> list:
    """A seeded choice of `count` pairs of `spec` (sorted by name first, so the choice repeats), in name order."""
    report = check_dataset(spec)
    if not report.ok:
        raise QuantizationError(f"{report.summary()}: {report.problems[0].message} (run `check` for every problem)")
    if count > len(report.pairs):
        raise QuantizationError(
            f"--calibration {count}: {spec.photos} has only {len(report.pairs)} pairs; give at most that many"
        )
    chosen = np.random.default_rng(seed).choice(len(report.pairs), size=count, replace=False)
    return [report.pairs[i] for i in sorted(int(i) for i in chosen)]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} logical cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical cores"


def run(args) -> int:
    if len(args.seeds) < 2:
        raise QuantizationError("--seeds needs two z seeds or more: the evaluation gate's spread is their SD")
    torch.set_num_threads(args.threads)
    package = args.package
    gen = read_package(package, "generator")
    height, width = gen.size
    calib_spec = dataset_spec(args.dataset, args.data, args.calibration_split)
    val_spec = dataset_spec(args.dataset, args.data, args.split)
    pairs = calibration_pairs(calib_spec, args.calibration, args.calibration_seed)
    calib = PairedDataset(calib_spec, pairs, height, width)
    labels = [calib[i][1].numpy() for i in range(len(calib))]
    log.info("%s: calibrating on %d %s label maps (seed %d)", package, len(labels), args.calibration_split,
             args.calibration_seed)  # fmt: skip

    # staged beside the package's files (a locked hidden folder, removed afterwards), moved in only when it ships
    with staging_folder(package / INT8_FILE) as stage:
        staged = stage / INT8_FILE
        record = quantize_package(package, labels, args.calibration_seed, staged, args.keep_float, args.ops)
        record["calibration"] = {
            "split": args.calibration_split,
            "photos": str(calib_spec.photos),
            "seed": args.calibration_seed,
            "choice": "numpy default_rng(seed).choice of the pairs sorted by name, without replacement",
            "pairs": [p.name for p, _ in pairs],
        }
        record["trainer"] = trainer_version()
        gen_float = with_session(gen, "model.onnx", args.threads)
        gen_int8 = with_session(gen, staged, args.threads)

        check = output_difference(gen_float, gen_int8, val_spec, args.check_images, args.seeds[0])
        check["split"], check["threshold"] = args.split, args.max_diff
        check["passed"] = check["mean_abs_diff"] <= args.max_diff
        record["check"] = check
        log.info("%s: int8 vs float on %d %s layouts: mean |diff| %.4f, max %.3f ([-1, 1] scale; allowed %g)",
                 package, check["images"], args.split, check["mean_abs_diff"], check["max_abs_diff"],
                 args.max_diff)  # fmt: skip
        if check["passed"] or args.force:

            def progress(which, seed, report):
                log.info("%s %s, seed %d: mIoU %.4f, FID %.2f, KID %.4f", package, which, seed, report["miou"],
                         report["fid"], report["kid"])  # fmt: skip

            opts = EvalOptions(split=args.split, seeds=tuple(args.seeds), batch_size=args.batch_size,
                               threads=args.threads, max_images=args.max_images)  # fmt: skip
            record["evaluation"] = evaluation_gate(gen_float, gen_int8, args.segmenter, val_spec, opts, log=progress)
        if args.speed_runs:
            first = PairedDataset(val_spec, select_pairs(val_spec, EvalOptions(max_images=1)), height, width)
            record["speed"] = measure_speed(gen_float, gen_int8, first[0][1], args.seeds[0], args.threads,
                                            args.speed_runs)  # fmt: skip
            record["speed"]["cpu"] = cpu_name()
        passed = check["passed"] and record.get("evaluation", {}).get("passed", False)
        record["verdict"] = "passed" if passed else "failed"
        if not passed and args.force:
            record["forced"] = True
        record = sanitize(record)
        if args.report:
            write_json_atomic(args.report, record)
        print(json.dumps({"event": "quantized", "package": str(package), "verdict": record["verdict"],
                          "shipped": passed or args.force, "mean_abs_diff": check["mean_abs_diff"],
                          "speed": record.get("speed")}))  # fmt: skip
        if not passed and not args.force:
            raise QuantizationError(refusal(package, record, args.max_diff))
        target, backup = package / INT8_FILE, stage / "previous.onnx"
        if target.is_file():  # an earlier variant: kept aside until model.json records the new one
            os.link(target, backup)
        os.replace(staged, target)
        try:
            record_variant(package, "int8", record)
        except BaseException:
            if backup.is_file():
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
            raise
    log.info("%s: wrote %s and model.json variants.int8 (%s%s)", package, target, record["verdict"],
             ", forced" if record.get("forced") else "")  # fmt: skip
    return 0


def refusal(package: Path, record: dict, max_diff: float) -> str:
    kept = f"not shipped: {INT8_FILE} not written, model.json unchanged (--force ships it anyway)"
    check = record["check"]
    if not check["passed"]:
        return (
            f"{package}: the int8 variant's images differ from model.onnx's by {check['mean_abs_diff']:.3f} on "
            f"average ([-1, 1] scale, {check['images']} {check['split']} layouts), above the {max_diff:g} "
            f"allowed (--max-diff); {kept}"
        )
    ev = record["evaluation"]
    failed = [
        f"{k} {ev[k]['variant_mean']:.4g} against the float {ev[k]['float_mean']:.4g} +- {ev[k]['allowed']:.3g}"
        for k in ("miou", "fid")
        if not ev[k]["passed"]
    ]
    return (
        f"{package}: the int8 variant scores outside the float model's seed-to-seed spread over seeds "
        f"{ev['seeds']} ({'; '.join(failed)}); {kept}"
    )
