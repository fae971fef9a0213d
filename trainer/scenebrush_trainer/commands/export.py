"""`export`: a model package (model.json + model.onnx [+ encoder.onnx]) from a training checkpoint."""

import json
from pathlib import Path

from ..export.finetune import write_finetune_checkpoint
from ..export.from_checkpoint import export_checkpoint
from ..export.weights_fp16 import DEFAULT_STORAGE, STORAGES
from ..networks.inference import NORMS
from ..training import checkpoint

NAME = "export"
HELP = "export a checkpoint to a model package, checked with onnxruntime"


def add_arguments(p) -> None:
    p.add_argument("--checkpoint", required=True, type=Path, help="checkpoint.pt, or a run folder holding one")
    p.add_argument("--out", required=True, type=Path, help="package folder, e.g. models/<id>")
    p.add_argument("--id", help="package id (default: the --out folder's name)")
    p.add_argument("--name", help="display name (default: architecture, dataset and size)")
    p.add_argument("--license", help="licence text (default: from the dataset's terms)")
    p.add_argument(
        "--norm",
        choices=("auto", *NORMS),
        default="auto",
        help="batch norm in the exported network: running statistics, or each image's own (what a run with "
        "batch size 1 trained with); auto picks per-image for batch size 1, running otherwise",
    )
    p.add_argument(
        "--weights-storage",
        choices=STORAGES,
        default=DEFAULT_STORAGE,
        help="how model.onnx (and encoder.onnx) store their large weights: float16 (default) halves the files; "
        "the network still computes in float32, with its weights rounded to float16",
    )
    p.add_argument(
        "--with-weights",
        action="store_true",
        help="also write PACKAGE/checkpoint.pt (G and D in float16) so `train --init-from PACKAGE` can fine-tune it",
    )


def run(args) -> int:
    ckpt = checkpoint.load(args.checkpoint)  # read once: a run may write a newer one meanwhile
    result = export_checkpoint(
        args.checkpoint, args.out, args.id or args.out.name, args.name, args.license, args.norm, args.weights_storage,
        loaded=ckpt,
    )  # fmt: skip
    if args.with_weights:
        result["weights"] = str(write_finetune_checkpoint(ckpt, args.out))
    print(json.dumps({"event": "exported", **result}))
    return 0
