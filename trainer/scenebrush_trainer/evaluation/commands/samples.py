"""`samples`: the same val layouts through several generator packages, as one grid image."""

import json
from pathlib import Path

from ...commands.argtypes import integer
from ...data.presets import PRESETS, dataset_spec
from ..samples import sample_grid

NAME = "samples"
HELP = "grid of val layouts: label map, each generator package (per z seed), the real photo"


def add_arguments(p) -> None:
    p.add_argument("--packages", required=True, type=Path, nargs="+", help="generator package folders")
    p.add_argument("--out", required=True, type=Path, help="PNG to write")
    p.add_argument("--dataset", choices=sorted(PRESETS), default="camvid")
    p.add_argument("--data", metavar="DIR", help="the preset's root (default ../shared/data/camvid)")
    p.add_argument("--split", default="val")
    p.add_argument("--count", type=integer(1), default=8, help="layouts, evenly spaced over the split (default 8)")
    p.add_argument("--seeds", "--seed", type=integer(0, 2**32 - 1), nargs="+", default=[0], dest="seeds",
                   help="z seeds, a column each per package (the same noise for every package; default 0)")  # fmt: skip


def run(args) -> int:
    spec = dataset_spec(args.dataset, args.data, args.split)
    names = sample_grid(args.packages, spec, args.out, args.count, tuple(args.seeds))
    print(json.dumps({"event": "samples", "path": str(args.out), "layouts": names}))
    return 0
