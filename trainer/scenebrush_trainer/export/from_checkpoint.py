"""A model package from a training checkpoint (the EMA generator when the run kept one)."""

from dataclasses import asdict
from pathlib import Path

from ..data.classes import class_list_from_json
from ..networks import build_encoder, build_generator
from ..networks.inference import inference_norm
from ..training import checkpoint
from ..training.config import ModelConfig, from_dict
from .package import model_json, trainer_version, write_package
from .weights_fp16 import DEFAULT_STORAGE


def default_license(dataset: str) -> str:
    if dataset.lower().startswith("camvid"):
        return (
            "CC BY-NC 4.0-style terms: trained on CamVid (Brostow et al.), whose terms allow personal and "
            "research use only; non-commercial research use only"
        )
    if dataset.lower().startswith("coco-stuff"):
        return (
            "Trained on COCO-Stuff (labels CC BY 4.0, photos under Flickr terms, SPADE's sample layout CC BY-NC-SA "
            "4.0): non-commercial research use only"
        )
    return f"Trained on user data ({dataset}): the data's own terms apply"


def export_checkpoint(
    ckpt_path: Path,
    out: Path,
    package_id: str,
    name: str | None = None,
    license: str | None = None,
    norm: str = "auto",
    weights_storage: str = DEFAULT_STORAGE,
    loaded: dict | None = None,
) -> dict:
    """`loaded`: ckpt_path's checkpoint, already read (so that what else the caller writes from it is of the same
    step while a run goes on writing the file)."""
    ckpt = loaded if loaded is not None else checkpoint.load(ckpt_path)
    model = from_dict(ModelConfig, ckpt["model_config"])
    classes = class_list_from_json(ckpt["data"]["classes"], f"{ckpt_path} (classes)")
    generator = build_generator(model, len(classes))
    generator.load_state_dict(ckpt["ema"] or ckpt["G"])
    encoder = None
    if ckpt.get("E"):
        encoder = build_encoder(model)
        encoder.load_state_dict(ckpt["E"])
    train = ckpt["train_config"]
    norm = inference_norm(train, norm, ckpt.get("world", 1))
    data = ckpt["data"]
    arch = {"spade": "SPADE", "ccfpse": "CC-FPSE"}[model.generator]
    arch += " (CLADE)" if model.modulation == "clade" else ""
    meta = model_json(
        package_id=package_id,
        name=name or f"{arch} ({data['name']}, {model.height}x{model.width})",
        model=model,
        classes=classes,
        training={
            "dataset": data["name"],
            "images": data["images"],
            "epochs": round(ckpt["step"] * train["batch_size"] * ckpt.get("world", 1) / max(1, data["images"]), 2),
            "steps": ckpt["step"],
            "seed": train["seed"],
            "trainer": trainer_version(),
            "config": {
                **asdict(model),
                **train,
                "ema_weights": bool(ckpt["ema"]),
                "vgg_loss": bool(train["vgg_weights"]),
                "inference_norm": norm,
            },
            "data_fingerprint": data["fingerprint"],
        },
        license=license or default_license(data["name"]),
    )
    diffs = write_package(out, meta, generator, encoder, norm=norm, weights_storage=weights_storage)
    return {
        "path": str(out),
        "id": package_id,
        "max_abs_diff": diffs,
        "step": ckpt["step"],
        "norm": norm,
        "weights_storage": weights_storage,
    }
