"""`export-segmenter`: a `segmenter` model package from a `train-segmenter` checkpoint (best.pt)."""

import json
from pathlib import Path

from ...export.segmenter import export_segmenter

NAME = "export-segmenter"
HELP = "export a train-segmenter checkpoint as a model package of kind segmenter"


def add_arguments(p) -> None:
    p.add_argument("--checkpoint", type=Path, default=Path("runs/segmenter/best.pt"),
                   help="checkpoint (default runs/segmenter/best.pt; last.pt is the latest epoch)")  # fmt: skip
    p.add_argument("--out", type=Path, default=Path("models/camvid-segmenter"), help="package folder")
    p.add_argument("--id", help="package id (default: the --out folder's name)")
    p.add_argument("--readme", type=Path, help="model card to copy in as README.md (else an existing one is kept)")
    p.add_argument("--flip-tta", action="store_true",
                   help="average the logits over the photo and its horizontal mirror inside model.onnx "
                        "(twice the inference time; recorded as training.flip_tta)")  # fmt: skip


def run(args) -> int:
    readme = args.readme.read_text() if args.readme else None
    result = export_segmenter(args.checkpoint, args.out, args.id, readme, args.flip_tta)
    print(json.dumps({"event": "exported", **result}))
    return 0
