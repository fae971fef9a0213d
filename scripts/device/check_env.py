"""Fails fast, naming what is missing, before any training starts: the Python packages the trainer imports,
the GPU (with --device cuda) and the packed data. Prints the machine's description as one JSON object.

    PYTHONPATH=trainer python3 scripts/device/check_env.py --device cuda --data device-data/camvid
"""

import argparse
import importlib
import json
import platform
import sys
from pathlib import Path

# what `python -m scenebrush_trainer train/train-segmenter` imports at the top of its modules (module: package)
REQUIRED = {"torch": "torch", "numpy": "numpy", "PIL": "pillow"}
# used when present: TensorBoard event files beside scalars.csv (training logs once that it skips them)
OPTIONAL = {"tensorboard": "tensorboard"}


def fail(message: str) -> None:
    sys.exit(f"check_env: {message}")


def versions(modules: dict[str, str], required: bool) -> dict:
    found = {}
    for module, package in modules.items():
        try:
            found[package] = getattr(importlib.import_module(module), "__version__", "unknown")
        except ImportError as e:
            if required:
                fail(f"the Python package {package!r} is missing ({e}); carry it as a wheel (the device tool's "
                     "README, Notes) or run where it is installed")  # fmt: skip
            found[package] = None
    return found


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=["cpu", "cuda"], required=True)
    p.add_argument("--data", type=Path, required=True, help="the packed CamVid root (pack_camvid.py)")
    args = p.parse_args(argv)
    info = {"python": platform.python_version(), "packages": versions(REQUIRED, True)}
    info["optional_packages"] = versions(OPTIONAL, False)
    try:
        importlib.import_module("scenebrush_trainer.cli")
    except ImportError as e:
        fail(f"the trainer does not import ({e}); run from the repository root with PYTHONPATH=trainer")
    import torch

    info["cuda"] = torch.version.cuda
    if args.device == "cuda":
        if not torch.cuda.is_available():
            fail(f"--device cuda but torch {torch.__version__} sees no CUDA GPU")
        props = torch.cuda.get_device_properties(0)
        info["gpu"] = {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
                       "count": torch.cuda.device_count()}  # fmt: skip
    manifest = args.data / "PACKED.json"
    for folder in ("train", "trainannot", "val", "valannot"):
        if not (args.data / folder).is_dir():
            fail(f"{args.data / folder} is missing: pack the data with scripts/device/pack_camvid.py and carry it")
    info["data"] = json.loads(manifest.read_text()) if manifest.is_file() else None
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
