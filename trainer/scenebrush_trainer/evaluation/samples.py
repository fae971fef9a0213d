"""A sample grid for model cards: rows are val layouts; columns the label map, each package (once per z seed),
the real photo."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..data.check import check_dataset
from ..data.dataset import PairedDataset
from ..training.samples import colorize
from .evaluate import EvaluationError, open_session, read_package, synthesize
from .report import save_png, to_uint8_hwc


def sample_grid(
    packages: list[Path], spec, out: Path, count: int = 8, seeds: tuple[int, ...] = (0,), threads: int = 2
) -> list[str]:
    """Writes the grid to `out`; returns the names of the val layouts used (evenly spaced over the split)."""
    gens = [read_package(p, "generator") for p in packages]
    sizes = {g.size for g in gens}
    if len(sizes) != 1:
        raise EvaluationError(f"the packages make images of different sizes {sorted(sizes)}; pick one size")
    h, w = sizes.pop()
    report = check_dataset(spec)
    if not report.ok:
        raise EvaluationError(f"{report.summary()}: {report.problems[0].message} (run `check` for every problem)")
    keep = np.linspace(0, len(report.pairs) - 1, min(count, len(report.pairs))).round().astype(int)
    pairs = [report.pairs[i] for i in keep]
    photos, labels = PairedDataset(spec, pairs, h, w).batch(torch.arange(len(pairs)))
    columns = [("label map", [colorize(lab, spec.classes) for lab in labels])]
    for g in gens:
        open_session(g, threads)
        for seed in seeds:
            fakes = synthesize(g, labels, seed, 0)
            title = g.meta.get("name") or g.path.name
            title = f"{title}, seed {seed}" if len(seeds) > 1 else title
            columns.append((title, [to_uint8_hwc(f) for f in fakes]))
    columns.append(("real photo", [p.permute(1, 2, 0).numpy().astype(np.uint8) for p in photos]))
    head, gap, font = 18, 4, ImageFont.load_default()
    grid = Image.new("RGB", (len(columns) * (w + gap) - gap, head + len(pairs) * (h + gap) - gap), "white")
    d = ImageDraw.Draw(grid)
    for c, (title, tiles) in enumerate(columns):
        d.text((c * (w + gap) + 4, 3), title, fill="black", font=font)
        for r, tile in enumerate(tiles):
            grid.paste(Image.fromarray(tile), (c * (w + gap), head + r * (h + gap)))
    save_png(out, grid)
    return [label.name for _, label in pairs]
