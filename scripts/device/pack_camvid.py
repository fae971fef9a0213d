"""Packs CamVid for a lent GPU machine: photos as JPEG, label maps copied unchanged, in the layout of the
trainer's camvid preset (train/ + trainannot/, val/ + valannot/), so `--data device-data/camvid` works there.

The photos keep their full 480x360 size: `train-segmenter` rescales the full-resolution train photos per batch
(0.75-1.5 of 192x256, up to 288x384), so pre-resizing them would lose detail the segmenter trains on; the
generators resize them to 192x256 themselves. JPEG changes the photos slightly: the mean absolute difference
per channel (0-255) is measured here, at full size and after the trainer's own resize to 192x256, and written
to PACKED.json beside the folders (the run record copies it).

    .venv/bin/python scripts/device/pack_camvid.py            # all pairs
    ... scripts/device/pack_camvid.py --max-images 8 --out device-data/camvid-smoke   # a subset for smoke runs
"""

import argparse
import json
import os
import shutil
import sys
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SPLITS = ("train", "val")
TRAINER_SIZE = (256, 192)  # width, height the generators and the segmenter's val resize to
LIMIT_MIB = 64  # what travels to the device machine: the working tree and every carried path together


def default_source() -> Path:
    return Path(os.environ.get("SCENEBRUSH_CAMVID") or REPO / ".." / "shared" / "data" / "camvid")


def encode(photo: Image.Image, quality: int) -> bytes:
    buf = BytesIO()
    photo.save(buf, "JPEG", quality=quality, subsampling=0, optimize=True)  # 4:4:4: no chroma halving
    return buf.getvalue()


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


def trainer_resize(im: Image.Image) -> Image.Image:
    return im.resize(TRAINER_SIZE, Image.BILINEAR, reducing_gap=None)  # as data/dataset.py loads photos


def pack_split(source: Path, out: Path, split: str, quality: int, max_images: int) -> dict:
    photos, labels = source / split, source / f"{split}annot"
    for folder in (photos, labels):
        if not folder.is_dir():
            sys.exit(f"pack_camvid: {folder} does not exist (is --source {source} a CamVid root?)")
    names = sorted(p.name for p in photos.glob("*.png"))[: max_images or None]
    if not names:
        sys.exit(f"pack_camvid: no PNG photos in {photos}")
    (out / split).mkdir(parents=True)
    (out / f"{split}annot").mkdir()
    diff_full, diff_resized = [], []
    for name in names:
        label = labels / name
        if not label.is_file():
            sys.exit(f"pack_camvid: {photos / name} has no label map {label}")
        with Image.open(photos / name) as im:
            photo = im.convert("RGB")
        data = encode(photo, quality)
        (out / split / f"{Path(name).stem}.jpg").write_bytes(data)
        with Image.open(BytesIO(data)) as im:
            back = im.convert("RGB")
        diff_full.append(mean_abs_diff(photo, back))
        diff_resized.append(mean_abs_diff(trainer_resize(photo), trainer_resize(back)))
        shutil.copyfile(label, out / f"{split}annot" / name)  # class ids must survive: bytes unchanged
    return {
        "pairs": len(names),
        "jpeg_mean_abs_diff": round(float(np.mean(diff_full)), 3),
        "jpeg_mean_abs_diff_at_256x192": round(float(np.mean(diff_resized)), 3),
        "jpeg_max_image_mean_abs_diff": round(float(np.max(diff_full)), 3),
    }


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, default=default_source(), help="CamVid root (default %(default)s)")
    p.add_argument("--out", type=Path, default=REPO / "device-data" / "camvid", help="default %(default)s")
    p.add_argument("--quality", type=int, default=94, help="JPEG quality (default %(default)s)")
    p.add_argument("--max-images", type=int, default=0, help="first N pairs of each split (default 0: all)")
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    args = p.parse_args(argv)
    if not 1 <= args.quality <= 100:
        sys.exit(f"pack_camvid: --quality must be 1..100, got {args.quality}")
    if args.out.exists():
        if not args.force:
            sys.exit(f"pack_camvid: {args.out} exists; give --force to replace it")
        shutil.rmtree(args.out)
    stage = args.out.with_name(f".{args.out.name}.staging")
    shutil.rmtree(stage, ignore_errors=True)
    splits = {s: pack_split(args.source, stage, s, args.quality, args.max_images) for s in SPLITS}
    total = folder_bytes(stage)
    manifest = {
        "source": str(args.source.resolve()),
        "format": "photos JPEG (full size, 4:4:4), label maps the source's PNGs byte for byte",
        "quality": args.quality,
        "splits": splits,
        "bytes": total,
        "note": "JPEG changes the photos slightly (mean absolute difference per channel on the 0-255 scale above); "
        "label maps are unchanged. CamVid's terms (non-commercial research use) apply to this copy.",
    }
    (stage / "PACKED.json").write_text(json.dumps(manifest, indent=2) + "\n")
    stage.rename(args.out)
    mib = total / 2**20
    print(f"{args.out}: {sum(s['pairs'] for s in splits.values())} pairs, {mib:.1f} MiB", file=sys.stderr)
    for split, info in splits.items():
        print(f"  {split}: {json.dumps(info)}", file=sys.stderr)
    if mib > LIMIT_MIB:
        print(f"pack_camvid: {mib:.1f} MiB is over the {LIMIT_MIB} MiB that may travel; lower --quality",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
