"""`ablation`: {SPADE, CC-FPSE} x {FP, FPSE} + SPADE x PatchGAN at two training-set sizes, equal budget per run;
writes README.md (table), results.json, miou.png and samples.png. Run it again to continue an interrupted one."""

import json
from dataclasses import replace
from pathlib import Path

from ...commands.argtypes import integer
from ...data.presets import dataset_spec
from ...training.events import log
from ..ablation import BUDGETS, SIZES, AblationOptions, run_ablation

NAME = "ablation"
HELP = "train, export and evaluate every generator x discriminator combination at two training-set sizes"


def add_arguments(p) -> None:
    p.add_argument(
        "--budget",
        choices=sorted(BUDGETS),
        default="smoke",
        help="smoke (a couple of steps), cpu-hour (2-core CPU, about an hour), gpu (the papers' widths)",
    )
    p.add_argument("--out", type=Path, help="report folder (default docs/ablation/BUDGET)")
    p.add_argument("--work", type=Path, help="checkpoints, packages and per-run results (default runs/ablation/BUDGET)")
    p.add_argument("--data", metavar="DIR", help="CamVid root (default ../shared/data/camvid or $SCENEBRUSH_CAMVID)")
    p.add_argument(
        "--segmenter",
        type=Path,
        default=Path("models/camvid-segmenter"),
        help="segmenter package (default models/camvid-segmenter); its size is the generators' size",
    )
    p.add_argument(
        "--sizes", type=integer(1), nargs="+", default=list(SIZES), help="training-set sizes (default 200 367)"
    )
    p.add_argument("--steps", type=integer(1), help="override the budget's steps per run")
    p.add_argument("--eval-images", type=integer(0), help="override the budget's number of val pairs scored (0 = all)")
    p.add_argument("--threads", type=integer(1), help="override the budget's CPU threads")
    p.add_argument("--seed", type=integer(0, 2**32 - 1), help="override the training seed (default 0)")


def run(args) -> int:
    budget = BUDGETS[args.budget]
    overrides = {"steps": args.steps, "eval_images": args.eval_images, "threads": args.threads, "seed": args.seed}
    budget = replace(budget, **{k: v for k, v in overrides.items() if v is not None})
    opts = AblationOptions(
        budget=budget,
        train=dataset_spec("camvid", args.data, "train"),
        val=dataset_spec("camvid", args.data, "val"),
        segmenter=args.segmenter,
        out=args.out or Path("docs/ablation") / budget.name,
        work=args.work or Path("runs/ablation") / budget.name,
        sizes=tuple(args.sizes),
    )
    summary = run_ablation(opts)
    log.info("ablation report: %s", opts.out / "README.md")
    print(json.dumps({"event": "ablation", "report": str(opts.out / "README.md"), "runs": len(summary["runs"])}))
    return 0
