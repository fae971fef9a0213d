"""The dataset check that runs before training: every problem, with file names and values."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .classes import ClassList
from .presets import DatasetSpec

PHOTO_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
LABEL_EXTS = {".png", ".bmp", ".tif", ".tiff"}  # lossless only: class ids must survive
LABEL_MODES = {"L", "P", "I", "I;16", "I;16B", "I;16L"}


@dataclass(frozen=True)
class Problem:
    kind: str  # missing_folder | empty | duplicate | unpaired_photo | unpaired_label | unreadable | label_not_ids | size_mismatch | bad_label_values
    path: str
    message: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "path": self.path, "message": self.message}


@dataclass
class CheckReport:
    spec: DatasetSpec
    pairs: list[tuple[Path, Path]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    class_pixels: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"{self.spec.name}: {len(self.pairs)} pairs, {len(self.spec.classes)} classes, no problems"
        return f"{self.spec.name}: {len(self.problems)} problem(s) in {self.spec.photos} / {self.spec.labels}"


def list_images(folder: Path, exts: set[str]) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in exts}


def read_label(path: Path, classes: ClassList) -> np.ndarray:
    """A label map as class ids (uint8 or int32), with the class list's remap applied."""
    with Image.open(path) as im:
        if im.mode not in LABEL_MODES:
            raise ValueError(
                f"label map is {im.mode}, expected single-channel class ids (8-bit grayscale or palette PNG)"
            )
        arr = np.array(im)
    if classes.remap:
        out = arr.astype(np.int32)
        for raw, cid in classes.remap.items():
            out[arr == raw] = cid
        arr = out
    return arr.astype(np.uint8) if arr.max(initial=0) < 256 and arr.min(initial=0) >= 0 else arr.astype(np.int32)


def check_dataset(spec: DatasetSpec) -> CheckReport:
    report = CheckReport(spec)
    add = report.problems.append
    for folder, what in ((spec.photos, "photos"), (spec.labels, "labels")):
        if not folder.is_dir():
            add(Problem("missing_folder", str(folder), f"{what} folder {folder} does not exist"))
    if report.problems:
        return report
    photos, labels = list_images(spec.photos, PHOTO_EXTS), list_images(spec.labels, LABEL_EXTS)
    for folder, exts, found in ((spec.photos, PHOTO_EXTS, photos), (spec.labels, LABEL_EXTS, labels)):
        stems = Counter(p.stem for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts)
        for stem in sorted(s for s, n in stems.items() if n > 1):
            add(Problem("duplicate", str(found[stem]), f"several files in {folder} are named {stem}.*; keep one"))
    for stem in sorted(photos.keys() - labels.keys()):
        add(
            Problem(
                "unpaired_photo",
                str(photos[stem]),
                f"photo {photos[stem].name} has no label map {stem}.png in {spec.labels}",
            )
        )
    for stem in sorted(labels.keys() - photos.keys()):
        add(
            Problem(
                "unpaired_label",
                str(labels[stem]),
                f"label map {labels[stem].name} has no photo {stem}.* in {spec.photos}",
            )
        )
    if not photos and not labels:
        add(Problem("empty", str(spec.photos), f"no images in {spec.photos} and {spec.labels}"))

    num = len(spec.classes)
    counts = np.zeros(num, np.int64)
    for stem in sorted(photos.keys() & labels.keys()):
        photo, label = photos[stem], labels[stem]
        try:
            with Image.open(photo) as im:
                im.load()
                photo_size = im.size
        except Exception as e:  # noqa: BLE001 -- any decoder failure means "unreadable"
            add(Problem("unreadable", str(photo), f"cannot read photo {photo}: {e}"))
            photo_size = None
        try:
            arr = read_label(label, spec.classes)
        except ValueError as e:
            add(Problem("label_not_ids", str(label), f"{label}: {e}"))
            continue
        except Exception as e:  # noqa: BLE001
            add(Problem("unreadable", str(label), f"cannot read label map {label}: {e}"))
            continue
        if photo_size is not None and photo_size != (arr.shape[1], arr.shape[0]):
            add(Problem(
                "size_mismatch", str(label),
                f"photo {photo.name} is {photo_size[0]}x{photo_size[1]} but its label map {label.name} is "
                f"{arr.shape[1]}x{arr.shape[0]}",
            ))  # fmt: skip
        values = np.unique(arr)
        bad = values[(values < 0) | (values >= num)]
        if bad.size:
            shown = ", ".join(str(v) for v in bad[:10]) + (" ..." if bad.size > 10 else "")
            add(Problem(
                "bad_label_values", str(label),
                f"label map {label} has values {shown} outside the class list (ids 0..{num - 1}"
                + (f", raw values remapped: {spec.classes.remap}" if spec.classes.remap else "") + ")",
            ))  # fmt: skip
            continue
        counts += np.bincount(arr.ravel(), minlength=num)[:num]
        if photo_size is not None:
            report.pairs.append((photo, label))
    report.class_pixels = counts
    return report
