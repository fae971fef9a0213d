"""Writes a model package folder: model.onnx (+ encoder.onnx) checked with onnxruntime, then model.json."""

import json
import os
import re
import subprocess
from pathlib import Path

from .. import __version__
from ..data.classes import ClassList
from ..fileio import atomic_path, staging_folder
from .onnx_export import export_encoder, export_generator
from .weights_fp16 import DEFAULT_STORAGE, STORAGES

FORMAT = 1
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def write_json_atomic(path: Path, data) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def trainer_version() -> str:
    """The package version plus the git commit of the checkout it runs from, when there is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        commit = out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"scenebrush_trainer {__version__}" + (f" (git {commit})" if commit else "")


def model_json(*, package_id, name, model, classes: ClassList, training: dict, license: str, metrics=None) -> dict:
    return {
        "format": FORMAT,
        "id": package_id,
        "name": name,
        "kind": "generator",
        "architecture": model.generator,
        "discriminator": model.discriminator,
        "height": model.height,
        "width": model.width,
        "classes": classes.to_json(),
        "dontcare": classes.dontcare,
        "z_dim": model.z_dim,
        "training": training,
        "metrics": metrics,
        "license": license,
    }


def write_package(
    out: Path,
    meta: dict,
    generator,
    encoder=None,
    readme: str | None = None,
    norm: str = "running",
    weights_storage: str = DEFAULT_STORAGE,
) -> dict:
    """Exports into a temporary folder beside `out`, checks every ONNX file with onnxruntime, then moves
    the files into `out` with model.json last: a failed export leaves no package (or the old one) behind.
    `weights_storage`: "float16" stores the large weights as float16, computed in float32 (weights_fp16);
    recorded as model.json's `weights_storage`."""
    out = Path(out)
    if not ID_PATTERN.match(meta["id"]):
        raise ValueError(f"package id {meta['id']!r}: use lowercase letters, digits, '.', '_' and '-'")
    if weights_storage not in STORAGES:
        raise ValueError(f"weights storage {weights_storage!r}: choose {' or '.join(STORAGES)}")
    meta = {**meta, "weights_storage": weights_storage}
    with staging_folder(out) as stage:
        diffs = {
            "model.onnx": export_generator(
                generator, len(meta["classes"]), stage / "model.onnx", norm=norm, weights_storage=weights_storage
            )
        }
        if encoder is not None:
            diffs["encoder.onnx"] = export_encoder(
                encoder,
                meta["height"],
                meta["width"],
                stage / "encoder.onnx",
                norm=norm,
                weights_storage=weights_storage,
            )
        if readme:
            (stage / "README.md").write_text(readme)
        write_json_atomic(stage / "model.json", meta)
        out.mkdir(parents=True, exist_ok=True)
        stale = out / "encoder.onnx"
        if encoder is None and stale.exists():
            stale.unlink()
        (out / "model.json").unlink(missing_ok=True)  # the package is invalid until the new files are in
        for f in sorted(stage.iterdir(), key=lambda p: p.name == "model.json"):
            os.replace(f, out / f.name)
        return diffs
