"""`evaluate`: mIoU, per-class IoU, pixel accuracy, FID and KID of a generator package on a split
(docs/evaluation.md)."""

import json
from pathlib import Path

import torch

from ...commands.argtypes import integer
from ...data.presets import PRESETS, dataset_spec
from ...training.events import log
from ..evaluate import EvalOptions, evaluate, open_session, read_package, variant_file, write_metrics, write_report

NAME = "evaluate"
HELP = "score a generator package: synthesize from every label map of a split, segment, compare; FID, KID"


def add_arguments(p) -> None:
    p.add_argument("--package", required=True, type=Path, help="generator package folder, e.g. models/camvid-spade")
    p.add_argument("--segmenter", type=Path, default=Path("models/camvid-segmenter"),
                   help="segmenter package (default models/camvid-segmenter)")  # fmt: skip
    p.add_argument("--dataset", choices=sorted(PRESETS), default="camvid", help="dataset preset (default camvid)")
    p.add_argument(
        "--data", metavar="DIR", help="the preset's root (default ../shared/data/camvid or $SCENEBRUSH_CAMVID)"
    )
    p.add_argument("--split", default="val", help="split to score on (default val)")
    p.add_argument(
        "--seeds", type=integer(0, 2**32 - 1), nargs="+", default=[0], help="z seeds; one image per label map and seed"
    )
    p.add_argument("--max-images", type=integer(0), default=0, help="score only the first N pairs (default all)")
    p.add_argument("--batch-size", type=integer(1), default=4)
    p.add_argument("--threads", type=integer(1), default=2, help="CPU threads for onnxruntime and PyTorch (default 2)")
    p.add_argument("--no-fid", action="store_true", help="skip FID and KID (no Inception network needed)")
    p.add_argument("--report", type=Path, help="JSON report path (default PACKAGE/evaluation-SPLIT.json)")
    p.add_argument("--no-write", action="store_true", help="leave the package's model.json untouched")
    p.add_argument("--variant", metavar="NAME",
                   help="score the package's variant NAME (model.json variants.NAME.file, e.g. int8) instead of "
                   "model.onnx; the report goes to PACKAGE/evaluation-SPLIT-NAME.json and model.json is left "
                   "untouched (its metrics are the float model's)")  # fmt: skip


def run(args) -> int:
    torch.set_num_threads(args.threads)
    spec = dataset_spec(args.dataset, args.data, args.split)
    opts = EvalOptions(split=args.split, seeds=tuple(args.seeds), batch_size=args.batch_size, threads=args.threads,
                       fid=not args.no_fid, max_images=args.max_images)  # fmt: skip
    package, suffix = args.package, ""
    if args.variant:
        package = read_package(args.package, "generator")
        file = variant_file(package, args.variant)
        open_session(package, args.threads, file)
        opts.extra = {"variant": args.variant, "file": file}
        suffix = f"-{args.variant}"
    report = evaluate(package, args.segmenter, spec, opts)
    report_path = args.report or args.package / f"evaluation-{args.split}{suffix}.json"
    write_report(report_path, report)
    if not args.no_write and not args.variant:
        write_metrics(args.package, report)
    fid = "n/a" if report["fid"] is None else f"{report['fid']:.2f}"
    kid = "n/a" if report["kid"] is None else f"{report['kid']:.4f}"
    if report["kid_se"] is not None:
        kid += f" +- {report['kid_se']:.4f}"
    log.info(
        "%s%s on %s (%d images x %d seeds): mIoU %.4f, pixel accuracy %.4f, FID %s, KID %s; segmenter on real "
        "photos: mIoU %.4f, pixel accuracy %.4f",
        report["id"], f" ({args.variant})" if args.variant else "", args.split, report["data"]["images"],
        len(report["seeds"]), report["miou"],
        report["pixel_accuracy"], fid, kid, report["segmenter"]["real_miou"],
        report["segmenter"]["real_pixel_accuracy"],
    )  # fmt: skip
    print(json.dumps({"event": "evaluated", "report": str(report_path), "miou": report["miou"],
                      "pixel_accuracy": report["pixel_accuracy"], "fid": report["fid"], "kid": report["kid"],
                      "kid_se": report["kid_se"]}))  # fmt: skip
    return 0
