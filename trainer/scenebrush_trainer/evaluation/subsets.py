"""Nested training subsets: the first N pairs of one fixed seeded permutation of a split, so that every smaller
subset lies inside every larger one. Each is a folder of links to the original files, made once and never
rewritten (two runner processes may ask for the same subset at the same time)."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..data.check import check_dataset
from ..data.presets import DatasetSpec

MANIFEST = "subset.json"


class SubsetError(RuntimeError):
    pass


def permutation(count: int, seed: int) -> list[int]:
    return np.random.default_rng(seed).permutation(count).tolist()


def subset_names(spec: DatasetSpec, size: int, seed: int) -> list[str]:
    """The photo names of the first `size` pairs of the seeded permutation of the split's sorted pairs."""
    report = check_dataset(spec)
    if not report.ok:
        raise SubsetError(f"{report.summary()}: {report.problems[0].message} (run `check` for every problem)")
    pairs = report.pairs
    if size > len(pairs):
        raise SubsetError(f"training-set size {size} is more than the {len(pairs)} pairs in {spec.photos}")
    return [pairs[i][0].name for i in permutation(len(pairs), seed)[:size]]


def nested_subset(spec: DatasetSpec, size: int, seed: int, root: Path) -> DatasetSpec:
    """The subset as a DatasetSpec; the split itself when `size` is all of it."""
    report = check_dataset(spec)
    if not report.ok:
        raise SubsetError(f"{report.summary()}: {report.problems[0].message} (run `check` for every problem)")
    if size == len(report.pairs):
        return spec
    names = subset_names(spec, size, seed)
    folder = Path(root) / f"subset-{size}-seed{seed}"
    manifest = {"source_photos": str(Path(spec.photos).resolve()), "size": size, "seed": seed, "photos": names}
    if not (folder / MANIFEST).is_file():
        build(report.pairs, names, manifest, folder)
    found = json.loads((folder / MANIFEST).read_text())
    if found != manifest:
        raise SubsetError(
            f"{folder} holds another subset ({found.get('size')} pairs of {found.get('source_photos')}, seed "
            f"{found.get('seed')}) than the one asked for ({size} of {manifest['source_photos']}, seed {seed}); "
            "use another work folder, or remove that folder if no run uses it"
        )
    label = f"{spec.name} ({size} of {len(report.pairs)}, permutation seed {seed})"
    return DatasetSpec(label, folder / "photos", folder / "labels", spec.classes)


def build(pairs, names: list[str], manifest: dict, folder: Path) -> None:
    """Stages the links in a private folder and renames it into place; a process that loses the race finds the
    winner's folder (with the same content) and removes its own."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        (stage / "photos").mkdir()
        (stage / "labels").mkdir()
        by_name = {photo.name: (photo, label) for photo, label in pairs}
        for name in names:
            photo, label = by_name[name]
            os.symlink(photo.resolve(), stage / "photos" / photo.name)
            os.symlink(label.resolve(), stage / "labels" / label.name)
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=1))
        try:
            os.rename(stage, folder)
        except OSError:
            if not (folder / MANIFEST).is_file():
                raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
