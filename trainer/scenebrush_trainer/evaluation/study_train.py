"""The study's training phase. Every run of the plan is trained in segments (RunOptions(until=..., resume=True))
and after each segment its generator weights are copied to RUN/snapshots/step-NNNNNN.pt for the learning curves.

Several runner processes may share a work folder: a runner takes a run only when it gets the run's lock
(RUN/.study.lock, flock, non-blocking; held across all segments), skips a locked run, and never trains a finished
one (RUN/run.json says `finished`). After any interruption the same command resumes every run from its
checkpoint. A run stopped by a signal ends the runner (status 0), ready to be continued.
"""

import contextlib
import json
import os
import platform
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import torch

from ..data.presets import DatasetSpec
from ..export.package import write_json_atomic
from ..fileio import atomic_path
from ..training import checkpoint
from ..training.config import model_config, train_config
from ..training.events import Events, log
from ..training.loop import RunOptions, train
from .locks import try_lock, wait_lock
from .study_plan import Run, StudyBudget, missing_feature, ordered_runs
from .subsets import nested_subset

RUN_JSON = "run.json"
LOCK = ".study.lock"


def run_dir(work: Path, run: Run) -> Path:
    return Path(work) / "runs" / run.name


def snapshot_path(out: Path, step: int) -> Path:
    return Path(out) / "snapshots" / f"step-{step:06d}.pt"


def read_run_json(out: Path) -> dict:
    path = Path(out) / RUN_JSON
    return json.loads(path.read_text()) if path.is_file() else {}


def is_finished(work: Path, run: Run) -> bool:
    return bool(read_run_json(run_dir(work, run)).get("finished"))


def machine() -> dict:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    return {"host": platform.node(), "cpu": cpu or platform.processor(), "cores": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads()}  # fmt: skip


def code_version() -> str:
    """The commit of the code the runner runs: COMMIT beside a pinned copy of the trainer, else the checkout's."""
    pinned = Path(__file__).resolve().parents[3] / "COMMIT"
    if pinned.is_file():
        return pinned.read_text().strip() + " (pinned copy)"
    from ..export.package import trainer_version

    return trainer_version()


def write_snapshot(out: Path, step: int) -> Path:
    """The generator (EMA weights when kept) of the checkpoint at `step`: all the scorer needs, a third of the
    checkpoint's size."""
    ckpt = checkpoint.load(Path(out) / checkpoint.NAME)
    if ckpt["step"] != step:
        raise RuntimeError(f"{out}: checkpoint at step {ckpt['step']}, expected {step} for its snapshot")
    keep = {k: ckpt[k] for k in ("step", "world", "model_config", "train_config", "data")}
    path = snapshot_path(out, step)
    with atomic_path(path) as tmp:
        torch.save({"format": 1, "kind": "generator-snapshot", **keep, "G": ckpt["ema"] or ckpt["G"]}, tmp)
    return path


def train_one(run: Run, budget: StudyBudget, data: DatasetSpec, work: Path, runner: str) -> bool:
    """Trains `run` to budget.steps in segments; True when finished, False when stopped by a signal."""
    out = run_dir(work, run)
    cell = run.cell
    model = model_config(budget.preset, generator=cell.generator, discriminator=cell.discriminator,
                         height=budget.height, width=budget.width)  # fmt: skip
    cfg = train_config(steps=budget.steps, batch_size=budget.batch_size, seed=run.seed, checkpoint_every=budget.segment,
                       sample_every=budget.sample_every, log_every=budget.log_every, **dict(cell.options))  # fmt: skip
    record = read_run_json(out) or {
        "name": run.name, "cell": cell.name, "group": cell.group, "generator": cell.generator,
        "discriminator": cell.discriminator, "images": cell.size, "options": dict(cell.options), "seed": run.seed,
        "budget": budget.name, "steps": budget.steps, "cpu_seconds": 0.0, "wall_seconds": 0.0, "segments": [],
        "finished": False,
    }  # fmt: skip
    ckpt_path = out / checkpoint.NAME
    if record["segments"] and not record["finished"] and not ckpt_path.exists():
        # its checkpoint is gone (another machine, a carried folder): it trains again from step 0, so its old
        # segments would count twice and its old scores would stand for snapshots trained anew; kept aside
        log.warning("study: %s has no checkpoint to resume: training it again from step 0", run.name)
        if (out / "scores").is_dir():
            (out / "scores").rename(out / f"scores-before-restart-{time.strftime('%Y%m%dT%H%M%S')}")
        record = {**record, "cpu_seconds": 0.0, "wall_seconds": 0.0, "segments": []}
    for until in budget.snapshot_steps():
        done = checkpoint.load(ckpt_path)["step"] if ckpt_path.exists() else 0
        if done >= until:
            if not snapshot_path(out, until).exists() and done == until:  # killed between checkpoint and copy
                write_snapshot(out, until)
            continue
        log.info("study: %s steps %d-%d (%s, %d pairs)", run.name, done, until, runner, cell.size)
        t0, c0 = time.time(), time.process_time()
        events = Events(out / "events.jsonl")
        try:
            result = train(RunOptions(out=out, data=data, model=model, train=cfg, resume=done > 0, until=until,
                                      steps=budget.steps if done > 0 else None), events)  # fmt: skip
        finally:
            events.close()
        if result.step < until:  # a signal: the checkpoint holds this step; the same command continues
            log.warning("study: %s stopped at step %d; run the same command to continue", run.name, result.step)
            return False
        write_snapshot(out, until)
        seg = {"from": done, "to": until, "cpu_seconds": round(time.process_time() - c0, 1),
               "wall_seconds": round(time.time() - t0, 1), "runner": runner, "machine": machine(),
               "code": code_version(), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S")}  # fmt: skip
        record["segments"].append(seg)
        record["cpu_seconds"] = round(record["cpu_seconds"] + seg["cpu_seconds"], 1)
        record["wall_seconds"] = round(record["wall_seconds"] + seg["wall_seconds"], 1)
        record["machine"] = seg["machine"]
        write_json_atomic(out / RUN_JSON, record)
    record["finished"] = True
    record["data"] = str(data.photos)
    write_json_atomic(out / RUN_JSON, record)
    return True


def score_path(out: Path, step: int) -> Path:
    """Where `study score` writes a snapshot's scores."""
    return Path(out) / "scores" / f"step-{step:06d}.json"


SCORE_FILES = ("scores/step-*.json", "scores/step-*-samples.png")  # what `carry_runs` copies besides run.json


def carry_runs(budget: StudyBudget, work: Path, to: Path) -> dict:
    """Copies what a finished run's results need and no checkpoint (its run.json and scores: kilobytes) from one
    work folder to another, so that a study can go on on another machine from a folder kept in the repository.
    Unfinished runs are not carried (their checkpoint is what they need); a run already finished in `to` is left
    as it is. Per run, run.json is copied last: a copy cut short leaves the run unfinished there. A finished run
    with a snapshot not yet scored stays too (`study score` first): carried, it would count as finished elsewhere,
    where its snapshots could never be scored."""
    counts = {"carried": 0, "already_there": 0, "unfinished": 0, "unscored": 0}
    for run in ordered_runs(budget):
        src, dst = run_dir(work, run), run_dir(to, run)
        record = read_run_json(src)
        if not record.get("finished"):
            counts["unfinished"] += bool(record)
            continue
        if read_run_json(dst).get("finished"):
            counts["already_there"] += 1
            continue
        if not all(score_path(src, step).exists() for step in budget.snapshot_steps()):
            counts["unscored"] += 1
            continue
        files = [p for pattern in SCORE_FILES for p in sorted(src.glob(pattern))] + [src / RUN_JSON]
        for path in files:
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                shutil.copyfile(path, tmp)
        counts["carried"] += 1
    if counts["carried"]:
        collect_results(to, budget)
    return counts


def collect_results(work: Path, budget: StudyBudget) -> dict:
    """WORK/results.json from every run's run.json (runs not started are listed as missing)."""
    runs, missing = [], []
    for run in ordered_runs(budget):
        rec = read_run_json(run_dir(work, run))
        (runs if rec else missing).append(rec or run.name)
    summary = {"budget": {**asdict(budget), "beyond": [asdict(b) for b in budget.beyond]}, "runs": runs,
               "not_started": missing}  # fmt: skip
    with wait_lock(Path(work) / ".results.lock"):  # two runners finishing together: one writer at a time
        write_json_atomic(Path(work) / "results.json", summary)
    return summary


def run_study(budget: StudyBudget, train_spec: DatasetSpec, work: Path, runner: str = "runner",
              only: tuple[str, ...] = ()) -> dict:  # fmt: skip
    """Trains every run of the plan (or of the cells in `only`) that no other runner holds; returns counts."""
    work = Path(work)
    torch.set_num_threads(budget.threads)
    counts = {"trained": 0, "finished_before": 0, "locked": 0, "skipped": 0, "stopped": False}
    skipped_cells: set[str] = set()
    for run in ordered_runs(budget, only):
        why = missing_feature(run.cell)
        if why:
            if run.cell.name not in skipped_cells:
                log.info("study: skipping cell %s: %s", run.cell.name, why)
                skipped_cells.add(run.cell.name)
            counts["skipped"] += 1
            continue
        if is_finished(work, run):
            counts["finished_before"] += 1
            continue
        out = run_dir(work, run)
        with try_lock(out / LOCK) as held:
            if not held:
                log.info("study: %s is being trained by another runner (%s); next run", run.name, held.holder)
                counts["locked"] += 1
                continue
            if is_finished(work, run):  # finished by another runner between the check and the lock
                counts["finished_before"] += 1
                continue
            data = nested_subset(train_spec, run.cell.size, budget.subset_seed, work / "data")
            if not train_one(run, budget, data, work, runner):
                counts["stopped"] = True
                break
            counts["trained"] += 1
        collect_results(work, budget)
    collect_results(work, budget)
    return counts
