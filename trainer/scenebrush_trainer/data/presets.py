"""Named dataset layouts: where the photos, label maps and class list of a preset live."""

import os
from dataclasses import dataclass
from pathlib import Path

from .classes import CAMVID, ClassList, load_class_list
from .coco_stuff import COCO_STUFF


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    photos: Path
    labels: Path
    classes: ClassList


def repo_root() -> Path:
    """The checkout this package runs from (trainer/scenebrush_trainer/...), else the working directory."""
    here = Path(__file__).resolve().parents[3]
    return here if (here / "trainer" / "scenebrush_trainer").is_dir() else Path.cwd()


def shared_data(env: str, folder: str, root: str | Path | None) -> Path:
    if root:
        return Path(root)
    if os.environ.get(env):
        return Path(os.environ[env])
    return repo_root() / ".." / "shared" / "data" / folder


def camvid(root=None, split: str = "train") -> DatasetSpec:
    """CamVid (SegNet layout): train/ + trainannot/, val/ + valannot/; $SCENEBRUSH_CAMVID overrides."""
    root = shared_data("SCENEBRUSH_CAMVID", "camvid", root)
    return DatasetSpec(f"CamVid {split}", root / split, root / f"{split}annot", CAMVID)


def coco_stuff(root=None, split: str = "train") -> DatasetSpec:
    """COCO-Stuff (SPADE layout): train_img/ + train_label/, 255 = don't care; $SCENEBRUSH_COCO_STUFF overrides."""
    root = shared_data("SCENEBRUSH_COCO_STUFF", "coco_stuff_samples", root)
    return DatasetSpec(f"COCO-Stuff {split}", root / f"{split}_img", root / f"{split}_label", COCO_STUFF)


def folders(photos, labels, classes_file, name: str | None = None) -> DatasetSpec:
    classes = load_class_list(Path(classes_file))
    return DatasetSpec(name or Path(photos).resolve().parent.name, Path(photos), Path(labels), classes)


PRESETS = {"camvid": camvid, "coco_stuff": coco_stuff}


def dataset_spec(preset=None, root=None, split="train", photos=None, labels=None, classes=None) -> DatasetSpec:
    """A preset (optionally at another root) or explicit folders + class list file."""
    if photos or labels or classes:
        missing = [n for n, v in (("--photos", photos), ("--labels", labels), ("--classes", classes)) if not v]
        if missing:
            raise ValueError(f"own data needs --photos, --labels and --classes; missing {', '.join(missing)}")
        return folders(photos, labels, classes)
    preset = preset or "camvid"
    if preset not in PRESETS:
        raise ValueError(f"unknown dataset preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[preset](root, split)
