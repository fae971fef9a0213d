"""`repack`: re-stores an existing model package's weights in place (float16 by default: half the files), checked
against the files it replaces on a few deterministic inputs; atomic, and a no-op on a package already stored so.

Rewrites model.onnx, encoder.onnx (when there is one) and the int8 variant model.json lists, then records
`weights_storage` in model.json. `--weights-storage float32` undoes it exactly."""

import json
from pathlib import Path

from ..export.repack import repack_package
from ..export.weights_fp16 import DEFAULT_STORAGE, STORAGES

NAME = "repack"
HELP = "re-store a model package's weights (float16 halves its ONNX files), in place and checked"


def add_arguments(p) -> None:
    p.add_argument("packages", nargs="+", type=Path, metavar="PACKAGE", help="package folder, e.g. models/<id>")
    p.add_argument(
        "--weights-storage",
        choices=STORAGES,
        default=DEFAULT_STORAGE,
        help="float16 (default): large weights stored as float16, computed in float32; float32: as exported "
        "before (undoes float16 exactly)",
    )


def run(args) -> int:
    for package in args.packages:
        print(json.dumps({"event": "repacked", **repack_package(package, args.weights_storage)}), flush=True)
    return 0
