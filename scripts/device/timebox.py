"""Runs one training job inside a wall-clock budget so that it ends with its learning rate annealed: a short
probe run measures the speed, then the same run goes on with the length (steps or epochs) that fits before
--end. At --guard a run still going gets SIGTERM (`train` stops after its step and writes a checkpoint;
`train-segmenter` keeps last.pt and best.pt of its last whole epoch), and SIGKILL --kill-after seconds later.

    python3 scripts/device/timebox.py gan --run RUN --end T --guard T --probe 40 -- TRAIN-ARGS
    python3 scripts/device/timebox.py segmenter --run RUN --end T --guard T --probe 2 --guess 120 -- SEG-ARGS

(T: unix seconds; run with PYTHONPATH=trainer from the repository root; the trainers' console output goes to
RUN/probe.log and RUN/main.log.) The GAN probe is `train --steps
1000000 --until PROBE`: its steps lie in the schedule's constant first half, so `train --resume --steps N` (N at
least twice the probe) gives exactly the schedule of a run started with --steps N. The segmenter probe is
`train-segmenter --epochs GUESS --until PROBE`, then the same with --epochs N: the probe's epochs followed GUESS's
poly schedule (the record names both). A GAN probe that fails or gives non-finite losses with --amp is tried
again once with --amp off. Everything goes to RUN/timebox.json as it happens: commands, speeds, lengths, times.
"""

import argparse
import contextlib
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BIG = 1_000_000  # the probe's nominal length: far beyond any probe, so its learning rate stays constant
SAFETY = 0.9  # share of the measured speed planned on (other jobs share the GPU; a restart costs time)


class Guarded:
    """One trainer process, ended at the guard time; a SIGTERM to this script is passed on to it."""

    current: subprocess.Popen | None = None

    @classmethod
    def forward(cls, signum, _frame):
        if cls.current is not None and cls.current.poll() is None:
            cls.current.send_signal(signum)


def run_guarded(cmd: list[str], log: Path, guard: float, kill_after: float) -> dict:
    start = time.time()
    with open(log, "ab") as out:
        proc = Guarded.current = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        how = "exited"
        try:
            rc = proc.wait(timeout=max(guard - time.time(), 0.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            how = "SIGTERM at the guard"
            try:
                rc = proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc, how = proc.wait(), "SIGKILL at the guard"
    Guarded.current = None
    wall = round(time.time() - start, 1)
    return {"command": shlex.join(cmd), "rc": rc, "how": how, "started": round(start, 1), "wall_s": wall}


def trainer(*args) -> list[str]:
    return [sys.executable, "-m", "scenebrush_trainer", *map(str, args)]


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line cut off by a kill
            rows.append(json.loads(line))
    return rows


class Record:
    def __init__(self, path: Path, **fields):
        self.path, self.data = path, fields
        self.save()

    def set(self, **fields) -> None:
        self.data.update(fields)
        self.save()

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.data, indent=2) + "\n")
        os.replace(tmp, self.path)


def finite_losses(events: list[dict]) -> bool:
    return all(math.isfinite(v) for e in events if e["event"] == "step" for v in e["losses"].values())


def without_amp(recipe: list[str]) -> list[str] | None:
    """The recipe with --amp off, or None when it already trains without mixed precision."""
    if "--amp" not in recipe or recipe[recipe.index("--amp") + 1] == "off":
        return None
    i = recipe.index("--amp")
    return [*recipe[:i], "--amp", "off", *recipe[i + 2 :]]


def gan(args, rec: Record) -> None:
    # eager: the probe times eager steps, and compiling (--compile auto on a long main run) would spend the budget
    process = ["--device", args.device, "--threads", args.threads, "--compile", "off"]
    run, recipe = args.run, args.trainer_args
    probe_events = run / "events-probe.jsonl"

    def probe(recipe):
        cmd = trainer("train", *recipe, *process, "--out", run, "--steps", BIG, "--until", args.probe,
                      "--events", probe_events)  # fmt: skip
        return run_guarded(cmd, run / "probe.log", args.guard, args.kill_after)

    result = probe(recipe)
    events = read_jsonl(probe_events)
    fallback = without_amp(recipe)
    if (result["rc"] != 0 or not finite_losses(events)) and fallback and time.time() < args.end:
        failed = run.with_name(f"{run.name}-amp-failed")
        shutil.rmtree(failed, ignore_errors=True)
        run.rename(failed)
        run.mkdir()
        rec.set(amp_fallback={"reason": f"probe rc {result['rc']}, finite losses {finite_losses(events)}",
                              "failed_run": str(failed), "probe": result})  # fmt: skip
        recipe = fallback
        result = probe(recipe)
        events = read_jsonl(probe_events)
    steps = [e for e in events if e["event"] == "step"]
    start = next((e for e in events if e["event"] == "start"), None)
    rec.set(probe=result, recipe=recipe)
    if result["rc"] != 0 or len(steps) < 2 or start is None:
        rec.set(error=f"the probe did not log two step events (rc {result['rc']}): see its log; no main run")
        return
    batch, images = start["train"]["batch_size"], start["images"]
    rate = (steps[-1]["step"] - steps[0]["step"]) / max(steps[-1]["time"] - steps[0]["time"], 1e-6)  # steps/s
    overhead = max(result["wall_s"] - steps[-1]["step"] / rate, 0.0)  # start-up, warm-up, checkpoint
    reached = steps[-1]["step"]
    left = args.end - time.time() - overhead
    total = reached + max(math.floor(left * rate * SAFETY), 0)
    rec.set(plan={"probe_steps_per_s": round(rate, 3), "probe_images_per_s": round(rate * batch, 2),
                  "overhead_s": round(overhead, 1), "seconds_left": round(left, 1), "safety": SAFETY,
                  "steps": total, "epochs": round(total * batch / images, 2),
                  "schedule_exact": total >= 2 * reached})  # fmt: skip
    if total <= reached:
        rec.set(error="no time left after the probe: the checkpoint is the probe's (learning rate not annealed)")
        return
    cmd = trainer("train", "--out", run, "--resume", "--steps", total, *process, "--events", run / "events.jsonl")
    rec.set(main=run_guarded(cmd, run / "main.log", args.guard, args.kill_after))
    events = read_jsonl(run / "events.jsonl")
    ckpts = [e["step"] for e in events if e["event"] == "checkpoint"] or [reached]
    steps = [e for e in events if e["event"] == "step"]
    speed = None
    if len(steps) >= 2:
        speed = (steps[-1]["step"] - steps[0]["step"]) * batch / max(steps[-1]["time"] - steps[0]["time"], 1e-6)
    end = next((e for e in reversed(events) if e["event"] in ("finished", "stopped")), {"event": "killed?"})
    ended = f"{end['event']} {end.get('reason', '')}".strip()
    rec.set(result={"steps": ckpts[-1], "planned_steps": total, "epochs": round(ckpts[-1] * batch / images, 2),
                    "batch_size": batch, "images_per_s": round(speed, 2) if speed else None, "ended": ended,
                    "annealed": ckpts[-1] >= total})  # fmt: skip


def segmenter(args, rec: Record) -> None:
    run, recipe = args.run, args.trainer_args
    process = ["--device", args.device, "--threads", args.threads, "--out", run]
    cmd = trainer("train-segmenter", *recipe, *process, "--epochs", args.guess, "--until", args.probe)
    result = run_guarded(cmd, run / "probe.log", args.guard, args.kill_after)
    entries = read_jsonl(run / "log.jsonl")
    rec.set(probe=result, recipe=recipe)
    if result["rc"] != 0 or not entries:
        rec.set(error=f"the probe logged no epoch (rc {result['rc']}): see its log; no main run")
        return
    epoch_s = entries[-1]["seconds"]  # the last probe epoch: after the first one's warm-up when --probe > 1
    overhead = max(result["wall_s"] - sum(e["seconds"] for e in entries), 0.0)
    done = entries[-1]["epoch"]
    left = args.end - time.time() - overhead
    total = done + max(math.floor(left * SAFETY / epoch_s), 0)
    rec.set(plan={"epoch_s": epoch_s, "overhead_s": round(overhead, 1), "seconds_left": round(left, 1),
                  "safety": SAFETY, "epochs": total, "probe_schedule_epochs": args.guess})  # fmt: skip
    if total <= done:
        rec.set(error="no time left after the probe: best.pt is the probe's (learning rate not annealed)")
        return
    cmd = trainer("train-segmenter", *recipe, *process, "--epochs", total)
    rec.set(main=run_guarded(cmd, run / "main.log", args.guard, args.kill_after))
    entries = read_jsonl(run / "log.jsonl")
    best = json.loads((run / "best.json").read_text()) if (run / "best.json").is_file() else {}
    rec.set(result={"epochs": entries[-1]["epoch"], "planned_epochs": total, "annealed": entries[-1]["epoch"] >= total,
                    "last_val_miou": entries[-1]["val_miou"], "best_val_miou": best.get("miou"),
                    "best_epoch": best.get("epoch"), "mean_epoch_s": round(
                        sum(e["seconds"] for e in entries[done:]) / max(len(entries) - done, 1), 2)})  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=["gan", "segmenter"])
    p.add_argument("--run", type=Path, required=True, help="the run folder (must not exist yet)")
    p.add_argument("--end", type=float, required=True, help="unix time by which training should end")
    p.add_argument("--guard", type=float, required=True, help="unix time of the SIGTERM to a run still going")
    p.add_argument("--kill-after", type=float, default=20.0, help="SIGKILL this many seconds after the SIGTERM")
    p.add_argument("--probe", type=int, required=True, help="steps (gan) or epochs (segmenter) of the probe")
    p.add_argument("--guess", type=int, default=100, help="segmenter: --epochs of the probe's schedule")
    p.add_argument("--device", default="cuda")
    p.add_argument("--threads", type=int, default=4)
    p.epilog = "After --: the trainer's recipe options."
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args = p.parse_args(argv[:cut])
    args.trainer_args = argv[cut + 1 :]
    if args.run.exists():
        sys.exit(f"timebox: {args.run} exists; give a new run folder")
    args.run.mkdir(parents=True)
    signal.signal(signal.SIGTERM, Guarded.forward)
    rec = Record(args.run / "timebox.json", kind=args.kind, name=args.run.name, end=args.end, guard=args.guard,
                 started=round(time.time(), 1))  # fmt: skip
    (gan if args.kind == "gan" else segmenter)(args, rec)
    rec.set(finished=round(time.time(), 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
