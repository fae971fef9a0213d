"""A training run carried to another machine: its checkpoint made small enough to commit, and back.

A session may end on one machine and the next start on a fresh one, so a long run lives on only in the
repository. Carried: the EMA generator (as G: the weights the package would export), D and the style encoder
in float16, the run's configuration, step and scalars.csv. Not carried: optimiser moments (three times the
weights) and RNG state. `train --resume` continues a carried run at its step, on its learning-rate schedule;
its optimisers start afresh, as after a fine-tuning phase.
"""

import shutil
from pathlib import Path

from ..fileio import atomic_path
from . import checkpoint
from .runfolder import RunLock
from .scalars import NAME as SCALARS

CARRIED = "carried"


class CarryError(RuntimeError):
    pass


def carried_state(ckpt: dict) -> dict:
    keep = ("step", "model_config", "train_config", "data")
    # the resumed run's EMA starts from G, which is the EMA
    return {**{k: ckpt[k] for k in keep}, "world": ckpt.get("world", 1), CARRIED: True,
            **checkpoint.travelling_weights(ckpt)}  # fmt: skip


def carry_run(source: Path, dest: Path) -> dict:
    """Writes DEST/checkpoint.pt (carried form) and DEST/scalars.csv from the run in SOURCE. Refuses a DEST
    that holds another run, or this run at the same or a later step: nothing there is changed then."""
    source, dest = Path(source), Path(dest)
    ckpt = checkpoint.load(source)
    if ckpt.get("weights_only"):
        raise CarryError(f"{source} holds fine-tuning weights, not a training run; carry a run folder")
    with RunLock(dest):  # no trainer may be writing there meanwhile
        there = dest / checkpoint.NAME
        if there.exists():
            theirs = checkpoint.load(there)
            if (theirs["model_config"], theirs["data"]["fingerprint"]) != (
                ckpt["model_config"],
                ckpt["data"]["fingerprint"],
            ):
                raise CarryError(f"{dest} holds another run (other model or data); carry to an empty folder")
            if theirs["step"] >= ckpt["step"]:
                raise CarryError(
                    f"{dest} already holds this run at step {theirs['step']} (the one in {source} is at step "
                    f"{ckpt['step']}): nothing carried, {there} left as it was"
                )
        scalars = (source if source.is_dir() else source.parent) / SCALARS
        if scalars.is_file():
            with atomic_path(dest / SCALARS) as tmp:
                shutil.copyfile(scalars, tmp)
        checkpoint.save(there, carried_state(ckpt))  # last: a carry cut short leaves the older checkpoint
    return {"step": ckpt["step"], "to": str(there), "bytes": there.stat().st_size}
