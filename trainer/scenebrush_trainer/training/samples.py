"""Sample grids: one row per sample, [label colours | photo | generated]."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.classes import ClassList
from ..fileio import atomic_path


def colorize(label: torch.Tensor, classes: ClassList) -> np.ndarray:
    palette = np.array(classes.colors, np.uint8)
    return palette[label.clamp(0, len(classes) - 1).cpu().numpy()]


def to_uint8(image: torch.Tensor) -> np.ndarray:
    return ((image.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def save_grid(path: Path, labels, reals, fakes, classes: ClassList) -> None:
    rows = [
        np.concatenate([colorize(lab, classes), to_uint8(real), to_uint8(fake)], axis=1)
        for lab, real, fake in zip(labels, reals, fakes)
    ]
    with atomic_path(path) as tmp:
        Image.fromarray(np.concatenate(rows, axis=0)).save(tmp, format="PNG")
