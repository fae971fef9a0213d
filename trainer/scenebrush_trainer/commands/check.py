"""`check`: checks a dataset the way training does, and reports every problem."""

import json

from ..data.check import check_dataset
from .common import add_data_args, data_spec

NAME = "check"
HELP = "check a dataset (pairs, readability, sizes, label values) without training"


def add_arguments(p) -> None:
    add_data_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args) -> int:
    report = check_dataset(data_spec(args))
    if args.json:
        print(json.dumps({"event": "check", "ok": report.ok, "dataset": report.spec.name, "pairs": len(report.pairs),
                          "problems": [p.to_json() for p in report.problems]}))  # fmt: skip
    else:
        for p in report.problems:
            print(f"{p.kind}: {p.message}")
        print(report.summary())
        if report.ok and report.class_pixels is not None:
            total = max(1, int(report.class_pixels.sum()))
            shares = ", ".join(
                f"{n} {100 * c / total:.1f}%" for n, c in zip(report.spec.classes.names, report.class_pixels) if c
            )
            print(f"pixel share: {shares}")
    return 0 if report.ok else 1
