"""The study's figures, drawn with PIL (no matplotlib here): learning curves (mean over seeds with a +- SD band,
one panel per training-set size) and the sample grid (the same val layouts at equal steps, one row per cell)."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..data.dataset import PairedDataset
from ..training.samples import colorize
from .report import save_png

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127)]  # fmt: skip
PANEL_W, PANEL_H, LEFT, BOTTOM, TOP = 360, 260, 55, 40, 30


def write_curves(path: Path, panels: list[tuple[str, dict]], metric: str, label: str, scale: float = 1.0,
                 reference: float | None = None) -> None:  # fmt: skip
    """panels: (title, {line name: {step: Stat}}); y = metric x scale; a dashed line at `reference`."""
    font = ImageFont.load_default()
    names = list(dict.fromkeys(n for _, lines in panels for n in lines))
    colour = {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(names)}
    values = [s.mean * scale for _, lines in panels for ss in lines.values() for s in ss.values() if s.mean is not None]
    values += [(s.mean + (s.sd or 0)) * scale for _, lines in panels for ss in lines.values() for s in ss.values()
               if s.mean is not None]  # fmt: skip
    values += [(s.mean - (s.sd or 0)) * scale for _, lines in panels for ss in lines.values() for s in ss.values()
               if s.mean is not None]  # fmt: skip
    if reference is not None:
        values.append(reference * scale)
    lo, hi = (min(values + [0.0]), max(values + [1e-6])) if values else (0.0, 1.0)
    hi += (hi - lo) * 0.05 or 1.0
    steps = sorted({st for _, lines in panels for ss in lines.values() for st in ss}) or [0, 1]
    x0, x1 = 0, max(steps)
    legend_h = 16 * len(names) + 10
    img = Image.new("RGB", (PANEL_W * max(1, len(panels)), PANEL_H + legend_h), "white")
    for p, (title, lines) in enumerate(panels):
        ox = p * PANEL_W
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        d, dl = ImageDraw.Draw(img), ImageDraw.Draw(layer)

        def xy(step, v, ox=ox):
            x = ox + LEFT + (PANEL_W - LEFT - 15) * (step - x0) / max(1, x1 - x0)
            y = TOP + (PANEL_H - TOP - BOTTOM) * (1 - (v - lo) / (hi - lo))
            return x, y

        d.text((ox + LEFT, 8), title, fill="black", font=font)
        d.line([xy(x0, hi), xy(x0, lo), xy(x1, lo)], fill="black")
        for k in range(5):
            v = lo + (hi - lo) * k / 4
            d.text((ox + 4, xy(x0, v)[1] - 6), f"{v:.3g}", fill="black", font=font)
        for st in steps:
            d.text((xy(st, lo)[0] - 12, PANEL_H - BOTTOM + 6), str(st), fill="black", font=font)
        if reference is not None:
            for x in range(int(xy(x0, 0)[0]), int(xy(x1, 0)[0]), 10):
                d.line([(x, xy(0, reference * scale)[1]), (x + 5, xy(0, reference * scale)[1])], fill=(200, 0, 0))
        for name, series in lines.items():
            pts = [(st, s) for st, s in sorted(series.items()) if s.mean is not None]
            if not pts:
                continue
            band = [xy(st, (s.mean + (s.sd or 0)) * scale) for st, s in pts]
            band += [xy(st, (s.mean - (s.sd or 0)) * scale) for st, s in reversed(pts)]
            if len(pts) > 1:
                dl.polygon(band, fill=(*colour[name], 50))
            centre = [xy(st, s.mean * scale) for st, s in pts]
            d.line(centre, fill=colour[name], width=2) if len(centre) > 1 else None
            for x, y in centre:
                d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour[name])
        img.paste(Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB"))
    d = ImageDraw.Draw(img)
    d.text((LEFT, PANEL_H - 14), f"{label} vs training step (mean over seeds, band +- 1 SD)", fill="black", font=font)
    for i, name in enumerate(names):
        y = PANEL_H + 4 + 16 * i
        d.rectangle([LEFT, y + 2, LEFT + 14, y + 10], fill=colour[name])
        d.text((LEFT + 20, y), name, fill="black", font=font)
    save_png(path, img)


def write_sample_grid(path: Path, rows: list[tuple[str, dict]], steps: list[int], val_spec, pairs, size_hw,
                      layouts: int = 2) -> None:  # fmt: skip
    """rows: (name, {step: strip image path}); `pairs`: the strips' val layouts. Columns: for each step `layouts`
    of them, spread over the strip. The top rows show their label maps and real photos (at the generator's size)."""
    h, w = size_hw
    picks = np.unique(np.linspace(0, len(pairs) - 1, min(layouts, len(pairs))).round().astype(int)).tolist()
    data = PairedDataset(val_spec, [pairs[i] for i in picks], h, w)
    photos, labels = data.batch(torch.arange(len(data)))
    label_tiles = [colorize(lab, val_spec.classes) for lab in labels]
    photo_tiles = [p.permute(1, 2, 0).numpy().astype(np.uint8) for p in photos]
    name_w, head, gap, font = 190, 16, 6, ImageFont.load_default()
    group_w = layouts * w + gap
    grid = Image.new("RGB", (name_w + group_w * len(steps), head + (h + 2) * (len(rows) + 2)), "white")
    d = ImageDraw.Draw(grid)
    for c, st in enumerate(steps):
        d.text((name_w + c * group_w + 4, 2), f"step {st}", fill="black", font=font)
    body = [("label map", {st: label_tiles for st in steps}), ("real photo", {st: photo_tiles for st in steps})]
    for name, strips in rows:
        tiles = {}
        for st, strip_path in strips.items():
            if strip_path and Path(strip_path).exists():
                strip = np.asarray(Image.open(strip_path).convert("RGB"))
                tiles[st] = [strip[:, i * w : (i + 1) * w] for i in picks if (i + 1) * w <= strip.shape[1]]
        body.append((name, tiles))
    for r, (name, tiles) in enumerate(body):
        y = head + r * (h + 2)
        d.text((4, y + h // 2 - 6), name, fill="black", font=font)
        for c, st in enumerate(steps):
            for i, tile in enumerate(tiles.get(st, [])):
                grid.paste(Image.fromarray(np.ascontiguousarray(tile)), (name_w + c * group_w + i * w, y))
    save_png(path, grid)
