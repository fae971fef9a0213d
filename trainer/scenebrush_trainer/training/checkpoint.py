"""Checkpoints: everything needed to continue bit-for-bit, written atomically."""

import random
from pathlib import Path

import numpy as np
import torch

from ..fileio import atomic_path

FORMAT = 1
NAME = "checkpoint.pt"


class CheckpointError(RuntimeError):
    pass


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def half(state: dict | None) -> dict | None:
    """Float tensors as float16 (half the bytes)."""
    if state is None:
        return None
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def travelling_weights(ckpt: dict) -> dict:
    """The weights that leave a run (a package's fine-tuning checkpoint, a carried run): G taken from the EMA
    when the run kept one (the weights an export ships), D and the style encoder, all in float16; no EMA."""
    return {
        "G": half(ckpt.get("ema") or ckpt["G"]),
        "D": half(ckpt["D"]),
        "E": half(ckpt.get("E")),
        "ema": None,
    }


def save(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state, "rng": rng_state()}, tmp)


def load(path: Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / NAME
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 -- a truncated or foreign file
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a scenebrush_trainer checkpoint (format {FORMAT})")
    return ckpt
