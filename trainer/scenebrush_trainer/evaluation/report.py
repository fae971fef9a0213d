"""The ablation's outputs: a markdown table, a bar chart and a sample grid, drawn with PIL (no matplotlib)."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..data.dataset import PairedDataset
from ..fileio import atomic_path
from ..training.samples import colorize

LABELS = {
    "spade": "SPADE",
    "ccfpse": "CC-FPSE",
    "fp": "FP",
    "fpse": "FPSE",
    "patchgan": "PatchGAN (multi-scale)",
    "oasis": "OASIS",
}


def combination(row: dict) -> str:
    return f"{LABELS[row['generator']]} + {LABELS[row['discriminator']]}"


def fmt(v, pattern: str) -> str:
    return "n/a" if v is None else pattern.format(v)


def write_markdown(path: Path, summary: dict) -> None:
    b, seg = summary["budget"], summary["segmenter"] or {}
    h, w = summary["resolution"]
    lines = [
        f"# Generator x discriminator ablation on CamVid: budget `{b['name']}`",
        "",
        f"Budget: {b['steps']} steps of batch {b['batch_size']} for every run, model preset `{b['preset']}`, "
        f"training seed {b['seed']} ({b['note']}).",
        f"Training-set sizes: {', '.join(str(s) for s in summary['sizes'])} pairs of {summary['train_data']} "
        "(a seeded subset for the smaller size).",
        f"Evaluation: {summary['runs'][0]['eval_images'] if summary['runs'] else 0} pairs of {summary['val_data']} "
        f"at {h}x{w} (labels nearest), z seeds {b['seeds']}, ONNX Runtime; mIoU over the 11 classes with void "
        "ignored (classes absent from both ground truth and prediction left out); FID against the real photos of "
        "the same pairs (Inception-v3 pool3). Protocol: docs/evaluation.md.",
        f"Segmenter: `{seg.get('id')}`, on the real photos of these pairs: mIoU {fmt(seg.get('real_miou'), '{:.3f}')},"
        f" pixel accuracy {fmt(seg.get('real_pixel_accuracy'), '{:.3f}')} (the ceiling for generated images).",
        "",
        "| generator + discriminator | train images | mIoU | pixel acc | FID | G params | D params | train time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["runs"]:
        lines.append(
            f"| {combination(r)} | {r['images']} | {fmt(r['miou'], '{:.3f}')} | "
            f"{fmt(r['pixel_accuracy'], '{:.3f}')} | {fmt(r['fid'], '{:.1f}')} | {r['g_params'] / 1e6:.2f} M | "
            f"{r['d_params'] / 1e6:.2f} M | {r['train_seconds'] / 60:.1f} min |"
        )
    lines += ["", "![mIoU per run](miou.png)", "", "![the same val layouts across runs](samples.png)", ""]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))


def save_png(path: Path, image: Image.Image) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def write_plot(path: Path, summary: dict) -> None:
    """Grouped bars: mIoU per combination, one bar per training-set size; dashed line = segmenter on real photos."""
    runs, sizes = summary["runs"], summary["sizes"]
    combos = list(dict.fromkeys(combination(r) for r in runs))
    font = ImageFont.load_default()
    shades = [(120, 160, 220), (30, 80, 160), (200, 120, 60), (90, 160, 90)]
    W, H, left, bottom, top = 140 * max(len(combos), 1) + 80, 360, 60, 70, 40
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    values = [r["miou"] or 0.0 for r in runs] + [(summary["segmenter"] or {}).get("real_miou") or 0.0]
    ymax = max(0.1, max(values) * 1.15)

    def y(v):
        return H - bottom - (H - bottom - top) * v / ymax

    d.line([(left, top), (left, H - bottom), (W - 10, H - bottom)], fill="black")
    for k in range(5):
        v = ymax * k / 4
        d.line([(left - 4, y(v)), (left, y(v))], fill="black")
        d.text((5, y(v) - 6), f"{v:.2f}", fill="black", font=font)
    d.text((left, 10), f"mIoU on val (budget {summary['budget']['name']})", fill="black", font=font)
    bar = 100 // max(len(sizes), 1)
    for i, name in enumerate(combos):
        x0 = left + 20 + 140 * i
        for j, size in enumerate(sizes):
            row = next((r for r in runs if combination(r) == name and r["images"] == size), None)
            if row is None or row["miou"] is None:
                continue
            x = x0 + j * bar
            d.rectangle([x, y(row["miou"]), x + bar - 4, H - bottom], fill=shades[j % len(shades)])
            d.text((x, y(row["miou"]) - 12), f"{row['miou']:.2f}", fill="black", font=font)
        for k, part in enumerate(name.replace(" (multi-scale)", "").split(" + ")):
            d.text((x0, H - bottom + 6 + 12 * k), part + (" +" if k == 0 else ""), fill="black", font=font)
    ceiling = (summary["segmenter"] or {}).get("real_miou")
    if ceiling:
        for x in range(left, W - 10, 12):
            d.line([(x, y(ceiling)), (x + 6, y(ceiling))], fill=(200, 0, 0))
        d.text((W - 200, y(ceiling) - 12), f"real photos {ceiling:.2f}", fill=(200, 0, 0), font=font)
    for j, size in enumerate(sizes):
        d.rectangle([left + 10 + 110 * j, H - 22, left + 20 + 110 * j, H - 12], fill=shades[j % len(shades)])
        d.text((left + 24 + 110 * j, H - 24), f"{size} images", fill="black", font=font)
    save_png(path, img)


def write_samples(path: Path, summary: dict, val_spec, val_pairs, keep, images: dict, size_hw, scale=0.5) -> None:
    """Rows: the label maps, the real photos, then one row per run; columns: the same val layouts."""
    h, w = size_hw
    th, tw = max(int(h * scale), 1), max(int(w * scale), 1)
    data = PairedDataset(val_spec, [val_pairs[i] for i in keep], h, w)
    photos, labels = data.batch(torch.arange(len(keep)))
    rows = [("label map", [colorize(lab, val_spec.classes) for lab in labels]),
            ("real photo", [p.permute(1, 2, 0).numpy() for p in photos])]  # fmt: skip
    for r in summary["runs"]:
        fakes = images.get(r["name"], {})
        tiles = [to_uint8_hwc(fakes[i]) if i in fakes else np.zeros((h, w, 3), np.uint8) for i in keep]
        rows.append((f"{combination(r).replace(' (multi-scale)', '')}, {r['images']}", tiles))
    name_w, font = 170, ImageFont.load_default()
    grid = Image.new("RGB", (name_w + tw * len(keep), th * len(rows)), "white")
    d = ImageDraw.Draw(grid)
    for ri, (name, tiles) in enumerate(rows):
        d.text((4, ri * th + th // 2 - 6), name, fill="black", font=font)
        for ci, tile in enumerate(tiles):
            grid.paste(Image.fromarray(tile).resize((tw, th), Image.BILINEAR), (name_w + ci * tw, ri * th))
    save_png(path, grid)


def to_uint8_hwc(image: np.ndarray) -> np.ndarray:
    return ((np.clip(image, -1, 1) + 1) * 127.5).round().astype(np.uint8).transpose(1, 2, 0)
