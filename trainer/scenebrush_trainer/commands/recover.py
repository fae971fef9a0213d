"""`recover-weights`: a fine-tuning checkpoint for a package that ships none, read back from its model.onnx.

The discriminator comes from another checkpoint with the same discriminator, size and classes; the
generator's batch-norm statistics are re-estimated on the data's label maps (photos are not used)."""

import json
from pathlib import Path

import torch

from ..data.check import check_dataset
from ..data.dataset import PairedDataset
from ..export.from_onnx import read_meta, recover_checkpoint
from .argtypes import integer
from .common import add_data_args, data_spec

NAME = "recover-weights"
HELP = "fine-tuning weights (checkpoint.pt) for a package without them, from its model.onnx"


def add_arguments(p) -> None:
    p.add_argument("--package", required=True, type=Path, help="generator package, e.g. models/camvid-ccfpse")
    p.add_argument("--discriminator-from", required=True, type=Path, metavar="CKPT",
                   help="checkpoint (or package with checkpoint.pt) whose discriminator to start from")  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="folder (or .pt file) for the checkpoint")
    p.add_argument(
        "--images", type=integer(1), default=64, help="label maps for the batch-norm statistics (default 64)"
    )
    add_data_args(p)


def run(args) -> int:
    _, model = read_meta(args.package)
    report = check_dataset(data_spec(args))
    if not report.ok:
        raise ValueError(f"{report.summary()}: {report.problems[0].message} (run `check` for every problem)")
    pairs = report.pairs[: max(1, args.images)]
    data = PairedDataset(report.spec, pairs, model.height, model.width)
    _, labels = data.batch(torch.arange(len(pairs)))
    result = recover_checkpoint(args.package, args.discriminator_from, args.out, labels)
    print(json.dumps({"event": "recovered", **result}))
    return 0
