"""`evaluate`: a generator package, run through ONNX Runtime exactly as the app runs it, scored on a split.

Every label map of the split is synthesized once per seed (z drawn from N(0, I) with numpy's generator seeded
by (seed, image index)), segmented by a segmenter package (ONNX too), and compared with the label map it came
from: mIoU, per-class IoU, pixel accuracy. FID compares the generated images with the split's real photos, both
at the generator's size. The segmenter's score on the real photos (same pipeline) is the ceiling.

A generator smaller than the segmenter (same aspect ratio) gets the label maps at its own size; its images are
upscaled (bilinear, no antialiasing) to the segmenter's size and compared with the label maps at that size. The
real photos take the same path: downscaled to the generator's size, upscaled back. At the segmenter's size
nothing is resized, and the scores are those of the earlier protocol.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..data.check import check_dataset
from ..data.dataset import PairedDataset, to_model_range
from ..data.presets import DatasetSpec
from ..export.package import write_json_atomic
from .artefacts import ArtefactMeter, interior
from .fid import InceptionFeatures, frechet_distance, statistics
from .kid import kid
from .metrics import ConfusionMeter, scored_names
from .style import StyleMeter

ENCODER = "encoder.onnx"


class EvaluationError(RuntimeError):
    pass


@dataclass
class Package:
    path: Path
    meta: dict
    session: object = None

    @property
    def size(self) -> tuple[int, int]:
        return self.meta["height"], self.meta["width"]


def read_package(path: Path, kind: str) -> Package:
    path = Path(path)
    meta_path, onnx_path = path / "model.json", path / "model.onnx"
    if not meta_path.is_file():
        raise EvaluationError(f"{meta_path} not found: --package/--segmenter takes a model package folder")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise EvaluationError(f"cannot read {meta_path}: {e}") from e
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        got = meta.get("kind") if isinstance(meta, dict) else None
        raise EvaluationError(f"{meta_path} has kind {got!r}; expected a {kind} package here")
    for key in ("height", "width", "classes"):
        if key not in meta:
            raise EvaluationError(f"{meta_path} has no {key!r}: not a format 1 model package")
    if not onnx_path.is_file():
        raise EvaluationError(f"{onnx_path} not found: the package has no network")
    return Package(path, meta)


def onnx_session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 -- onnxruntime raises its own exception types
        raise EvaluationError(f"onnxruntime cannot load {path}: {e}") from e


def open_session(pkg: Package, threads: int, file: str = "model.onnx"):
    """Opens the package's network (or, with `file`, another ONNX file of the package: a variant)."""
    pkg.session = onnx_session(pkg.path / file, threads)
    return pkg.session


def variant_file(pkg: Package, name: str) -> str:
    """The file of a variant recorded in model.json (`variants.NAME.file`), e.g. model-int8.onnx."""
    variants = pkg.meta.get("variants") or {}
    record = variants.get(name) if isinstance(variants, dict) else None
    file = record.get("file") if isinstance(record, dict) else None
    if not isinstance(file, str) or not file or Path(file).name != file:
        known = ", ".join(sorted(variants)) if isinstance(variants, dict) and variants else "none"
        raise EvaluationError(
            f"{pkg.path / 'model.json'} records no variant {name!r} with a file (variants: {known}); "
            "`quantize` makes the int8 one"
        )
    if not (pkg.path / file).is_file():
        raise EvaluationError(f"{pkg.path / file} not found, though model.json records it as variant {name!r}")
    return file


def check_compatible(gen: Package, seg: Package, data_classes) -> None:
    (gh, gw), (sh, sw) = gen.size, seg.size
    if gh > sh or gw > sw or gh * sw != gw * sh:
        raise EvaluationError(
            f"generator {gen.path} makes {gw}x{gh} images but segmenter {seg.path} takes {sw}x{sh}: a generator is "
            "scored at the segmenter's size or below it with the same aspect ratio (its images are upscaled to the "
            f"segmenter's size); use a segmenter trained at {gw}x{gh}, or larger with the same aspect ratio"
        )
    names = [c["name"] for c in gen.meta["classes"]]
    if names != [c["name"] for c in seg.meta["classes"]] or gen.meta.get("dontcare") != seg.meta.get("dontcare"):
        seg_names = [c["name"] for c in seg.meta["classes"]]
        raise EvaluationError(
            f"generator {gen.path} has classes {names} (don't care {gen.meta.get('dontcare')}) but segmenter "
            f"{seg.path} has {seg_names} (don't care {seg.meta.get('dontcare')}); use a segmenter trained on the "
            "generator's classes (--segmenter)"
        )
    if len(names) != len(data_classes) or gen.meta.get("dontcare") != data_classes.dontcare:
        raise EvaluationError(
            f"the data has {len(data_classes)} classes (don't care {data_classes.dontcare}), generator {gen.path} "
            f"{len(names)} (don't care {gen.meta.get('dontcare')}): evaluate on data with the generator's classes"
        )


def z_for(seed: int, index: int, z_dim: int) -> np.ndarray:
    """The noise for one (seed, image): independent of batch size and order."""
    return np.random.default_rng([seed, index]).standard_normal(z_dim).astype(np.float32)


def synthesize(gen: Package, labels: torch.Tensor, seed: int, start: int) -> np.ndarray:
    feed = {"label": labels.numpy().astype(np.int64)}
    z_dim = int(gen.meta.get("z_dim") or 0)
    if z_dim > 0:
        feed["z"] = np.stack([z_for(seed, start + i, z_dim) for i in range(len(labels))])
    (image,) = gen.session.run(["image"], feed)
    return image


def open_encoder(gen: Package, threads: int):
    """The package's style encoder session, or None when it has none."""
    if not (gen.path / ENCODER).is_file() or not int(gen.meta.get("z_dim") or 0):
        return None
    return onnx_session(gen.path / ENCODER, threads)


def synthesize_in_style(gen: Package, encoder, labels: torch.Tensor, photos: np.ndarray) -> np.ndarray:
    """Each layout rendered with z = the encoder's mu of its own photo (photos in [-1, 1] at the model's size)."""
    (mu,) = encoder.run(["mu"], {"image": photos.astype(np.float32)})
    (image,) = gen.session.run(["image"], {"label": labels.numpy().astype(np.int64), "z": mu.astype(np.float32)})
    return image


def segment(seg: Package, images: np.ndarray) -> np.ndarray:
    (logits,) = seg.session.run(["logits"], {"image": images.astype(np.float32)})
    return logits.argmax(1)


UPSCALE = "bilinear, half-pixel centres (align_corners=False), no antialiasing"


def to_size(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Images [N, 3, h, w] in [-1, 1] upscaled to the segmenter's size; unchanged when already at it. Antialiasing
    only matters when shrinking, so it is off: plain bilinear interpolation."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    x = torch.from_numpy(np.ascontiguousarray(images, np.float32))
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False).numpy()


# Real-photo Inception features per (data fingerprint, size): a study scores many generators on one split.
_REAL_FEATURES: dict[tuple, np.ndarray] = {}


@dataclass
class EvalOptions:
    split: str = "val"
    seeds: tuple[int, ...] = (0,)
    batch_size: int = 4
    threads: int = 2
    fid: bool = True  # FID and KID (both need the Inception network)
    max_images: int = 0  # 0: the whole split
    indices: tuple[int, ...] = ()  # score these pairs of the split (sorted by name) instead of the first max_images
    keep: tuple[int, ...] = ()  # image indices whose generated images (seed 0) are returned, for grids
    style: bool = True  # with the package's encoder.onnx (if any): each photo's own style against the seeds'
    extra: dict = field(default_factory=dict)


def evaluate(package: Path, segmenter: Path, spec: DatasetSpec, opts: EvalOptions, inception=None) -> dict:
    """Scores a generator package; returns the report (also the `generated` images of `opts.keep`)."""
    t0 = time.time()
    # a Package-like object with its own session (e.g. a PyTorch generator for learning curves) is used as it is
    gen = package if isinstance(package, Package) else read_package(package, "generator")
    seg = read_package(segmenter, "segmenter")
    check_compatible(gen, seg, spec.classes)
    pairs = select_pairs(spec, opts)
    height, width = gen.size
    data = PairedDataset(spec, pairs, height, width)
    data.preload()
    # the label maps the segmentation is compared with, at the segmenter's size (nearest from the originals)
    truth = data if seg.size == gen.size else PairedDataset(spec, pairs, *seg.size)
    if truth is not data:
        truth.preload()
    if gen.session is None:
        open_session(gen, opts.threads)
    open_session(seg, opts.threads)
    encoder = open_encoder(gen, opts.threads) if opts.style else None
    style = StyleMeter() if encoder else None
    num, dontcare = len(spec.classes), spec.classes.dontcare
    own_meter = ConfusionMeter(num, dontcare) if encoder else None  # the layout, found in the own-style images
    names = scored_names(spec.classes.names, dontcare)

    real_meter, fake_meter = ConfusionMeter(num, dontcare), ConfusionMeter(num, dontcare)
    real_art, fake_art = ArtefactMeter(num), ArtefactMeter(num)
    fakes, kept = [], {}
    spread, spread_n = 0.0, 0  # how far other seeds move each pixel from the first seed's image
    for i in range(0, len(data), opts.batch_size):
        idx = torch.arange(i, min(i + opts.batch_size, len(data)))
        photos, labels = data.batch(idx)
        seg_labels = truth.batch(idx)[1].numpy()
        # real photos at the generator's size, upscaled as the generated images are: the same path for both
        real = to_model_range(photos).numpy()
        real_meter.add(seg_labels, segment(seg, to_size(real, seg.size)))
        inside = interior(labels.numpy())
        real_art.add(real, inside)
        first, seed_fakes = None, []
        for seed in opts.seeds:
            fake = synthesize(gen, labels, seed, i)
            fake_meter.add(seg_labels, segment(seg, to_size(fake, seg.size)))
            fakes.append(fake)
            seed_fakes.append(fake)
            fake_art.add(fake, inside)
            if first is None:
                first = fake
            else:
                spread += float(np.abs(fake - first).mean()) / 2 * len(fake)  # [-1, 1] -> [0, 1] scale
                spread_n += len(fake)
            if seed == opts.seeds[0]:
                kept.update({int(j): fake[k] for k, j in enumerate(idx) if int(j) in opts.keep})
        if style:
            own = synthesize_in_style(gen, encoder, labels, real)
            style.add(real, own, seed_fakes)
            own_meter.add(seg_labels, segment(seg, to_size(own, seg.size)))
    fid = kid_value = kid_se = None
    if opts.fid:
        inception = inception or InceptionFeatures()
        key = (data.fingerprint(), len(data))
        if key not in _REAL_FEATURES:
            _REAL_FEATURES[key] = inception(to_model_range(data.photos))
        real_features, fake_features = _REAL_FEATURES[key], inception(torch.from_numpy(np.concatenate(fakes)))
        fid = frechet_distance(*statistics(fake_features), *statistics(real_features))
        kid_value, kid_se = kid(fake_features, real_features)
    fake_scores, real_scores = fake_meter.scores(), real_meter.scores()
    return {
        "package": str(gen.path),
        "id": gen.meta.get("id"),
        "split": opts.split,
        "data": {"photos": str(spec.photos), "labels": str(spec.labels), "images": len(data)},
        "resolution": [height, width],
        "segmenter_resolution": list(seg.size),
        "upscale": None if seg.size == gen.size else UPSCALE,
        "seeds": list(opts.seeds),
        "generated": len(data) * len(opts.seeds),
        **fake_scores.to_json(names),
        "fid": fid,
        "kid": kid_value,
        "kid_se": kid_se,
        "seed_diversity": spread / spread_n if spread_n else None,
        "style_from_photo": style.to_json(own_meter.scores()) if style else None,
        "artefacts": fake_art.compare(real_art, list(spec.classes.names), dontcare),
        "segmenter": {
            "package": str(seg.path),
            "id": seg.meta.get("id"),
            "real_miou": real_scores.miou,
            "real_pixel_accuracy": real_scores.pixel_accuracy,
            "real_per_class_iou": real_scores.to_json(names)["per_class_iou"],
        },
        "seconds": round(time.time() - t0, 1),
        **opts.extra,
        "kept_images": kept,
    }


def select_pairs(spec: DatasetSpec, opts: EvalOptions) -> list:
    report = check_dataset(spec)
    if not report.ok:
        raise EvaluationError(f"{report.summary()}: {report.problems[0].message} (run `check` for every problem)")
    if not opts.indices:
        return report.pairs[: opts.max_images or None]
    bad = [i for i in opts.indices if not 0 <= i < len(report.pairs)]
    if bad:
        raise EvaluationError(f"pair indices {bad} are outside the {len(report.pairs)} pairs of {spec.photos}")
    return [report.pairs[i] for i in opts.indices]


def metrics_entry(report: dict) -> dict:
    """What goes into model.json `metrics`: the contract's fields first, then the details."""
    return {
        "split": report["split"],
        "miou": json_number(report["miou"]),
        "pixel_accuracy": json_number(report["pixel_accuracy"]),
        "fid": json_number(report["fid"]),
        "kid": json_number(report.get("kid")),
        "kid_se": json_number(report.get("kid_se")),
        "seed_diversity": json_number(report.get("seed_diversity")),
        "style_from_photo": report.get("style_from_photo"),
        "artefacts": report.get("artefacts"),
        "per_class_iou": report["per_class_iou"],
        "resolution": report["resolution"],
        "seeds": report["seeds"],
        "images": report["data"]["images"],
        "segmenter": report["segmenter"]["id"],
        "segmenter_real_miou": json_number(report["segmenter"]["real_miou"]),
        "segmenter_real_pixel_accuracy": json_number(report["segmenter"]["real_pixel_accuracy"]),
        "protocol": "docs/evaluation.md",
    }


def json_number(v):
    return None if v is None or not np.isfinite(v) else float(v)


def sanitize(obj):
    """JSON has no NaN: undefined scores (nothing to score) become null."""
    if isinstance(obj, dict):
        return {k: sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return json_number(obj)
    return obj


def write_metrics(package: Path, report: dict) -> None:
    """Replaces `metrics` in the package's model.json, keeping every other field; atomic."""
    path = Path(package) / "model.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise EvaluationError(f"cannot read {path} to store the metrics: {e}; it was left as it was") from e
    meta["metrics"] = sanitize(metrics_entry(report))
    write_json_atomic(path, meta)


def write_report(path: Path, report: dict) -> None:
    write_json_atomic(Path(path), sanitize({k: v for k, v in report.items() if k != "kept_images"}))
