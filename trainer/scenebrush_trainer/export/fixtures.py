"""Builds the untrained fixture packages that the app's tests load (scripts/make_fixtures.sh).

Each package holds a reference: a label map, a z and the PyTorch output for them, which the app
compares with its ONNX Runtime output."""

import argparse
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.classes import CAMVID
from ..networks import build_generator
from ..training.config import model_config
from .package import model_json, trainer_version, write_package

HEIGHT, WIDTH = 192, 256
SEED = 1234
FIXTURES = {
    "fixture-spade-untrained": ("spade", "SPADE (untrained test fixture)"),
    "fixture-ccfpse-untrained": ("ccfpse", "CC-FPSE (untrained test fixture)"),
}
# tiny widths keep each ONNX file well under 1 MB
FIXTURE_MODEL = dict(ngf=2, ndf=4, nhidden=4, z_dim=16, height=HEIGHT, width=WIDTH)


def reference_label(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """A street-like layout using several CamVid classes and the don't-care id."""
    y, x = np.mgrid[0:height, 0:width]
    label = np.full((height, width), 0, np.uint8)  # sky
    label[y > height * 0.25 + 10 * np.sin(x / 17)] = 1  # building skyline
    label[(x > width * 0.7) & (y > height * 0.2)] = 5  # tree
    label[y > height * 0.6] = 4  # pavement
    label[(y > height * 0.65) & (np.abs(x - width / 2) < (y - height * 0.4) * 1.2)] = 3  # road
    label[(y > height * 0.62) & (y < height * 0.8) & (x > width * 0.15) & (x < width * 0.35)] = 8  # car
    label[(np.abs(x - width * 0.6) < 2) & (y > height * 0.3) & (y < height * 0.7)] = 2  # pole
    label[(y > height * 0.5) & (y < height * 0.65) & (x > width * 0.45) & (x < width * 0.5)] = 9  # pedestrian
    label[(y >= height - 8) & (x < 24)] = CAMVID.dontcare
    return label


def build_fixture(out_dir: Path, package_id: str) -> Path:
    arch, name = FIXTURES[package_id]
    cfg = model_config("tiny", generator=arch, discriminator="fpse", **FIXTURE_MODEL)
    torch.manual_seed(SEED)
    # xavier gain 1 (instead of training's 0.02) so that untrained outputs are far from constant
    generator = build_generator(cfg, len(CAMVID), init_gain=1.0).eval()
    meta = model_json(
        package_id=package_id,
        name=name,
        model=cfg,
        classes=CAMVID,
        training={
            "dataset": "none (untrained, random weights)",
            "images": 0,
            "epochs": 0,
            "seed": SEED,
            "trainer": trainer_version(),
            "config": asdict(cfg),
        },
        license="No training data: random weights from a fixed seed, for tests only.",
    )
    pkg = out_dir / package_id
    write_package(pkg, meta, generator)

    label = reference_label()
    Image.fromarray(label, mode="L").save(pkg / "reference_label.png")
    z = torch.randn(1, cfg.z_dim, generator=torch.Generator().manual_seed(SEED + 1))
    with torch.no_grad():
        image = generator(torch.from_numpy(label.astype(np.int64))[None], z)
    z.numpy().astype("<f4").tofile(pkg / "reference_z.f32")
    image.numpy().astype("<f4").tofile(pkg / "reference_image.f32")
    return pkg


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/models"))
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    for package_id in FIXTURES:
        pkg = build_fixture(args.out, package_id)
        sizes = ", ".join(f"{f.name} {f.stat().st_size // 1024} KiB" for f in sorted(pkg.iterdir()))
        print(f"wrote {pkg}: {sizes}")


if __name__ == "__main__":
    main()
