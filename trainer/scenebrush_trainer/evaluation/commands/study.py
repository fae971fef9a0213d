"""`study`: the generator x discriminator x data-size study with training seeds and learning curves (issue 12).

  study plan    the runs in training order, and what each work folder holds of them
  study train   train every run no other runner holds (start several side by side; run again to resume)
  study score   score every snapshot not scored yet (mIoU, KID, FID), while training goes on or after
  study report  the table, curves and sample grid from whatever results exist
  study carry   copy the finished runs' records and scores (no checkpoints) to another work folder (--to), e.g.
                into the repository at the end of a session and back onto a fresh machine

Protocol and commands: docs/evaluation.md (`study`) and WORK/README.txt."""

import json
from pathlib import Path

import torch

from ...commands.argtypes import integer
from ...data.presets import dataset_spec
from ...training.events import log
from ..study_plan import BUDGETS, missing_feature, ordered_runs
from ..study_report import write_report
from ..study_score import score_study
from ..study_train import carry_runs, is_finished, read_run_json, run_dir, run_study, snapshot_path

NAME = "study"
HELP = "the seed's cells x data sizes x training seeds, with learning curves: plan, train, score, report"
PHASES = ("plan", "train", "score", "report", "carry")


def add_arguments(p) -> None:
    p.add_argument("phase", choices=PHASES, help="plan, train, score, report or carry")
    p.add_argument("--budget", choices=sorted(BUDGETS), default="smoke",
                   help="study-96x128 (the study), amp-check (bf16 against the study's float32 runs) or smoke "
                   "(plumbing, a few steps); default smoke")  # fmt: skip
    p.add_argument("--work", type=Path, help="work folder (default runs/study/BUDGET)")
    p.add_argument("--data", metavar="DIR", help="CamVid root (default ../shared/data/camvid or $SCENEBRUSH_CAMVID)")
    p.add_argument("--threads", type=integer(1), help="CPU threads of this process (default: the budget's, 1)")
    p.add_argument("--cells", nargs="+", default=[], metavar="CELL",
                   help="plan, train or score only these cells (e.g. spade-fp-367; `plan` lists them)")  # fmt: skip
    p.add_argument("--runner", default="runner", help="this process's name in the run records (e.g. runner-1)")
    p.add_argument("--segmenter", type=Path, default=Path("models/camvid-segmenter"),
                   help="segmenter package that scores the snapshots (default models/camvid-segmenter)")  # fmt: skip
    p.add_argument("--to", type=Path, help="carry: the work folder to copy the finished runs into")
    p.add_argument("--out", type=Path, help="report folder (default docs/ablation/BUDGET; smoke: WORK/report)")
    p.add_argument("--ablation-md", type=Path,
                   help="markdown file whose generated study block the report rewrites (default docs/ablation.md "
                        "for study-96x128, none for smoke)")  # fmt: skip


def run(args) -> int:
    budget = BUDGETS[args.budget]
    work = args.work or Path("runs/study") / budget.name
    if args.threads:
        from dataclasses import replace

        budget = replace(budget, threads=args.threads)
    torch.set_num_threads(budget.threads)
    if args.phase == "plan":
        return plan(budget, work, tuple(args.cells))
    if args.phase == "carry":
        if args.to is None:
            raise ValueError("study carry: give the folder to copy the finished runs into with --to")
        if not Path(work).is_dir():
            raise FileNotFoundError(f"study carry: no work folder {work}; give the one the runs are in with --work")
        counts = carry_runs(budget, work, args.to)
        log.info("study carry: %s -> %s: %s", work, args.to, ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(json.dumps({"event": "study", "phase": "carry", "work": str(work), "to": str(args.to), **counts}))
        return 0
    if args.phase in ("score", "report"):
        val = dataset_spec("camvid", args.data, "val")
        if not Path(val.photos).is_dir():
            raise FileNotFoundError(f"no CamVid val photos at {val.photos}: give the CamVid root with --data")
    if args.phase == "report":
        smoke = budget.name == "smoke"
        out = args.out or (work / "report" if smoke else Path("docs/ablation") / budget.name)
        md = args.ablation_md or (None if smoke else Path("docs/ablation.md"))
        summary = write_report(budget, work, out, val, md)
        done = sum(r["status"] == "finished" for r in summary["runs"])
        log.info("study report: %s (%d of %d runs finished)", out / "README.md", done, len(summary["runs"]))
        print(json.dumps({"event": "study", "phase": "report", "report": str(out / "README.md"), "finished": done,
                          "runs": len(summary["runs"])}))  # fmt: skip
        return 0
    if args.phase == "score":
        counts = score_study(budget, work, args.segmenter, val, budget.threads, tuple(args.cells))
        log.info("study score: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(json.dumps({"event": "study", "phase": "score", "work": str(work), **counts}))
        return 0
    train_spec = dataset_spec("camvid", args.data, "train")
    if not Path(train_spec.photos).is_dir():
        raise FileNotFoundError(f"no CamVid training photos at {train_spec.photos}: give the CamVid root with --data")
    counts = run_study(budget, train_spec, work, args.runner, tuple(args.cells))
    log.info("study: %s", ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(json.dumps({"event": "study", "phase": "train", "work": str(work), **counts}))
    return 0


def plan(budget, work: Path, only: tuple[str, ...] = ()) -> int:
    for i, r in enumerate(ordered_runs(budget, only)):
        why = missing_feature(r.cell)
        rec = read_run_json(run_dir(work, r))
        snaps = [s for s in budget.snapshot_steps() if snapshot_path(run_dir(work, r), s).exists()]
        state = ("finished" if is_finished(work, r) else f"snapshots {snaps}" if snaps else
                 "started" if rec or run_dir(work, r).exists() else "not started")  # fmt: skip
        print(f"{i + 1:3d} {r.name:40s} {state}" + (f"  [skipped: {why}]" if why else ""))
    return 0
