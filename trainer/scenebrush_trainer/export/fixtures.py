"""Builds the untrained fixture packages that the app's tests load (scripts/make_fixtures.sh).

Each package holds a reference: a label map, a z and the PyTorch output for them, which the app
compares with its ONNX Runtime output. The packages with a style encoder (encoder.onnx) go to a
folder of their own (tests/fixtures/style-models), so that the app's tests that list or loop over
tests/fixtures/models see the same models as before; each holds a reference photo and the PyTorch
mu of it instead. The package with an int8 variant (model-int8.onnx, recorded under `variants.int8` in
model.json by the trainer's `quantize`) goes to a folder of its own too (tests/fixtures/int8-models)."""

import argparse
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data.classes import CAMVID
from ..networks import build_encoder, build_generator
from ..networks.inference import inference_copy
from ..networks.layers import init_weights
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
# with a style encoder: (architecture, name, z_dim). The CC-FPSE one has another z_dim, so that the app's
# tests have a style made for a model of another size. Narrower still (ngf 1, encoder ndf 2): a few hundred KB.
ENCODER_FIXTURES = {
    "fixture-spade-encoder-untrained": ("spade", "SPADE with style encoder (untrained test fixture)", 16),
    "fixture-ccfpse-encoder-untrained": ("ccfpse", "CC-FPSE with style encoder, z_dim 8 (untrained test fixture)", 8),
}
ENCODER_MODEL = dict(ngf=1, ndf=2, nhidden=4, height=HEIGHT, width=WIDTH, encoder=True)
# with an int8 variant: (architecture, name); the generator as in FIXTURES (same widths and seed)
INT8_FIXTURES = {
    "fixture-spade-int8-untrained": ("spade", "SPADE with int8 variant (untrained test fixture)"),
}
# calibration: the reference layout plus this many random blocky layouts
INT8_CALIBRATION_RANDOM = 7
# fixtures keep float32 weights: their files are tiny, and the app's tests compare their outputs with PyTorch's
# float32 references (reference_image.f32, reference_mu.f32) at 1e-4
WEIGHTS_STORAGE = "float32"


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


def reference_photo(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """An RGB "photo" at the model's size: the reference layout in class colours with smooth shading (no
    noise, so the PNG stays small), uint8 [H, W, 3]."""
    y, x = np.mgrid[0:height, 0:width]
    colors = np.array(CAMVID.colors, np.float64)[reference_label(height, width)]
    shade = 0.75 + 0.25 * np.sin(x / 23.0)[..., None] * np.cos(y / 31.0)[..., None]
    warm = np.stack([x / width * 60, y / height * 30, (1 - x / width) * 40], -1)
    return np.clip(colors * shade + warm, 0, 255).astype(np.uint8)


def untrained_meta(package_id: str, name: str, cfg) -> dict:
    """model.json of a fixture package: random weights from SEED, no training data."""
    return model_json(
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


def build_fixture(out_dir: Path, package_id: str) -> Path:
    arch, name = FIXTURES[package_id]
    return build_generator_fixture(out_dir, package_id, arch, name)


def build_generator_fixture(out_dir: Path, package_id: str, arch: str, name: str) -> Path:
    """A generator package with reference_label.png, reference_z.f32 and reference_image.f32 (PyTorch's output)."""
    cfg = model_config("tiny", generator=arch, discriminator="fpse", **FIXTURE_MODEL)
    torch.manual_seed(SEED)
    # xavier gain 1 (instead of training's 0.02) so that untrained outputs are far from constant
    generator = build_generator(cfg, len(CAMVID), init_gain=1.0).eval()
    meta = untrained_meta(package_id, name, cfg)
    pkg = out_dir / package_id
    write_package(pkg, meta, generator, weights_storage=WEIGHTS_STORAGE)

    label = reference_label()
    Image.fromarray(label, mode="L").save(pkg / "reference_label.png")
    z = torch.randn(1, cfg.z_dim, generator=torch.Generator().manual_seed(SEED + 1))
    with torch.no_grad():
        image = generator(torch.from_numpy(label.astype(np.int64))[None], z)
    z.numpy().astype("<f4").tofile(pkg / "reference_z.f32")
    image.numpy().astype("<f4").tofile(pkg / "reference_image.f32")
    return pkg


def random_layouts(count: int, seed: int, height: int = HEIGHT, width: int = WIDTH) -> list[np.ndarray]:
    """Blocky random layouts (class ids of CamVid, the don't-care id included): 8 x 8 blocks of random classes
    on a coarse grid, scaled up, so every class shows in regions of a realistic size."""
    rng = np.random.default_rng(seed)
    layouts = []
    for _ in range(count):
        coarse = rng.integers(0, len(CAMVID), size=(height // 8, width // 8), dtype=np.uint8)
        layouts.append(np.kron(coarse, np.ones((8, 8), np.uint8)))
    return layouts


def build_int8_fixture(out_dir: Path, package_id: str) -> Path:
    """A generator package (as build_fixture, with its references of the float network) plus its int8 variant:
    model-int8.onnx by the trainer's quantize, calibrated on the reference layout and a few random ones, recorded
    under `variants.int8` in model.json."""
    from .quantize import quantize_package, record_variant

    arch, name = INT8_FIXTURES[package_id]
    pkg = build_generator_fixture(out_dir, package_id, arch, name)
    labels = [reference_label(), *random_layouts(INT8_CALIBRATION_RANDOM, SEED + 2)]
    record = quantize_package(pkg, labels, seed=SEED)
    record_variant(pkg, "int8", record)
    return pkg


def build_encoder_fixture(out_dir: Path, package_id: str) -> Path:
    """A generator package with encoder.onnx, plus reference_photo.png (RGB at the model's size) and
    reference_mu.f32 (raw little-endian float32 [1, z_dim]: PyTorch's mu for that photo)."""
    arch, name, z_dim = ENCODER_FIXTURES[package_id]
    cfg = model_config("tiny", generator=arch, discriminator="fpse", z_dim=z_dim, **ENCODER_MODEL)
    torch.manual_seed(SEED)
    generator = build_generator(cfg, len(CAMVID), init_gain=1.0).eval()
    encoder = build_encoder(cfg)
    # gain 1 as for the generator: an untrained encoder whose mu clearly depends on the photo
    init_weights(encoder, 1.0)
    encoder.eval()
    meta = untrained_meta(package_id, name, cfg)
    pkg = out_dir / package_id
    write_package(pkg, meta, generator, encoder, weights_storage=WEIGHTS_STORAGE)

    photo = reference_photo()
    Image.fromarray(photo, mode="RGB").save(pkg / "reference_photo.png")
    image = torch.from_numpy(photo.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        mu, _ = inference_copy(encoder)(image)
    mu.numpy().astype("<f4").tofile(pkg / "reference_mu.f32")
    return pkg


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/models"))
    parser.add_argument(
        "--encoder-out", type=Path, default=None, help="packages with a style encoder (default: OUT/../style-models)"
    )
    parser.add_argument(
        "--int8-out", type=Path, default=None, help="packages with an int8 variant (default: OUT/../int8-models)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    encoder_out = args.encoder_out or args.out.parent / "style-models"
    int8_out = args.int8_out or args.out.parent / "int8-models"
    built = [build_fixture(args.out, package_id) for package_id in FIXTURES]
    built += [build_encoder_fixture(encoder_out, package_id) for package_id in ENCODER_FIXTURES]
    built += [build_int8_fixture(int8_out, package_id) for package_id in INT8_FIXTURES]
    for pkg in built:
        sizes = ", ".join(f"{f.name} {f.stat().st_size // 1024} KiB" for f in sorted(pkg.iterdir()))
        print(f"wrote {pkg}: {sizes}")


if __name__ == "__main__":
    main()
