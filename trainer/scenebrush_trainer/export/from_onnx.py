"""Fine-tuning weights for a package that ships none: its generator read back from model.onnx.

The export folded spectral norm into the weights and batch norm into a per-channel scale and shift
(networks.inference.inference_copy). Going back:
- a spectrally normalised weight is loaded as the un-normalised one, with u, v set so that the eval-mode
  normalisation divides by exactly 1 (exact_spectral_vectors; checked against the ONNX output below);
- a batch norm without affine parameters (SPADE's) is exact: running var = 1/scale^2 - eps, mean = -shift/scale;
- an affine batch norm keeps only scale = w / sqrt(var + eps) and shift = b - mean * scale, so its running
  statistics are re-estimated on training layouts and w, b solved from them. Inference is the same for any
  choice; in training (batch statistics) these make the network behave as it did when it was trained.
A package exported with per-image statistics (`inference_norm` "per-image") keeps batch norm's w, b as they
were (InstanceNormalization's scale and bias), so nothing needs estimating.

The discriminator is not in the package: it comes from another checkpoint of the same discriminator
configuration and classes (e.g. the SPADE package trained against the same FPSE discriminator), which is a
far better start than a random one for fine-tuning against it.
"""

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from ..data.classes import class_list_from_json
from ..networks import build_discriminator, build_generator
from ..networks.inference import NORMS, inference_copy
from ..training import checkpoint
from ..training.config import ModelConfig, from_dict
from .onnx_export import example_inputs
from .weights_fp16 import to_float32

PREFIX = "generator."
DISCRIMINATOR_KEYS = ("discriminator", "ndf", "height", "width")


class RecoveryError(RuntimeError):
    pass


def onnx_weights(path: Path) -> dict[str, torch.Tensor]:
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path))
    except Exception as e:  # noqa: BLE001 -- missing or damaged file
        raise RecoveryError(f"cannot read {path}: {e}") from e
    to_float32(model)  # weights stored as float16 (weights_fp16): the float32 values the graph computes with
    return {
        t.name.removeprefix(PREFIX): torch.from_numpy(numpy_helper.to_array(t).copy())
        for t in model.graph.initializer
        if t.name.startswith(PREFIX)
    }


def read_meta(package: Path) -> tuple[dict, ModelConfig]:
    try:
        meta = json.loads((package / "model.json").read_text())
        config = meta["training"]["config"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RecoveryError(f"{package / 'model.json'}: no readable training configuration ({e})") from e
    return meta, from_dict(ModelConfig, config)


def load_generator(
    G: nn.Module, weights: dict[str, torch.Tensor], package: Path, norm: str = "running"
) -> list[nn.BatchNorm2d]:
    """Loads every weight; returns the affine batch norms whose statistics still need estimating."""
    used, affine = set(), []
    with torch.no_grad():
        for name, m in G.named_modules():
            if "parametrizations" in name.split("."):
                continue  # the spectral norm's own modules: handled with the layer they belong to
            prefix = f"{name}." if name else ""
            if isinstance(m, nn.BatchNorm2d) and norm == "per-image":
                m.reset_running_stats()  # never used by the package; training tracks them afresh
                if m.affine:
                    m.weight.copy_(take(weights, used, f"{prefix}weight", package))
                    m.bias.copy_(take(weights, used, f"{prefix}bias", package))
                continue
            if isinstance(m, nn.BatchNorm2d):
                scale, shift = (take(weights, used, bn_name(weights, prefix, k), package).flatten()
                                for k in ("scale", "shift"))  # fmt: skip
                if m.affine:
                    m.weight.copy_(scale)  # provisional (statistics 0 / 1) until calibrate() solves them
                    m.bias.copy_(shift)
                    m.running_mean.zero_()
                    m.running_var.fill_(1 - m.eps)
                    affine.append(m)
                else:
                    m.running_var.copy_(scale.pow(-2) - m.eps)
                    m.running_mean.copy_(-shift / scale)
                continue
            for pname, p in m.named_parameters(recurse=False):
                p.copy_(take(weights, used, f"{prefix}{pname}", package))
            if parametrize.is_parametrized(m, "weight"):
                w = take(weights, used, f"{prefix}weight", package)
                m.parametrizations.weight.original.copy_(w)
                exact_spectral_vectors(m.parametrizations.weight[0], w)
    left = sorted(set(weights) - used)
    if left:
        raise RecoveryError(f"{package / 'model.onnx'}: weights {left[:5]} have no place in the generator")
    return affine


def exact_spectral_vectors(sn: nn.Module, w: torch.Tensor) -> None:
    """Sets the spectral norm's u, v so that its eval-mode estimate u.Wv is exactly 1 for the folded weight.

    Folded weights have a spectral norm s of about 1 but not exactly (EMA weights were normalised with the
    raw generator's u, v). With u = u1/s + sqrt(1 - 1/s^2) u_perp, v = v1 (the top singular pair), u.Wv = 1 and
    inference matches the package exactly; training's first power iteration then moves to W/s, as it does
    when fine-tuning from a package's own checkpoint.pt."""
    mat = sn._reshape_weight_to_matrix(w)
    sn._power_method(mat, 200)
    u1, v1 = sn._u.clone(), sn._v.clone()
    s = float(u1 @ mat @ v1)
    if s <= 1 or u1.numel() < 2:
        return  # cannot be 1 with unit vectors; the ONNX comparison says how far off this leaves it
    perp = torch.randn(u1.shape, generator=torch.Generator().manual_seed(0), dtype=u1.dtype)
    perp = perp - (perp @ u1) * u1
    perp = perp / perp.norm()
    sn._u.copy_(u1 / s + (1 - 1 / s**2) ** 0.5 * perp)


def bn_name(weights: dict, prefix: str, key: str) -> str:
    """The exporter stores identical tensors once. A shortcut's SPADE norm (norm_s) and the block's first
    (norm_0) normalise the same input, so their statistics are identical and only norm_0's are kept."""
    name = f"{prefix}{key}"
    if name not in weights and prefix.endswith("norm_s.norm."):
        return name.replace("norm_s.norm.", "norm_0.norm.")
    return name


def take(weights: dict, used: set, name: str, package: Path) -> torch.Tensor:
    if name not in weights:
        raise RecoveryError(f"{package / 'model.onnx'} has no weight {PREFIX}{name}: not this trainer's export")
    used.add(name)
    return weights[name]


@torch.no_grad()
def calibrate(G: nn.Module, affine: list[nn.BatchNorm2d], labels: torch.Tensor, z_dim: int) -> None:
    """Per affine batch norm, the mean of per-image input statistics over `labels` (batch 1, as trained)."""
    stats = {m: [] for m in affine}
    hooks = [
        m.register_forward_pre_hook(lambda mod, inp: stats[mod].append(
            (inp[0].mean((0, 2, 3)), inp[0].var((0, 2, 3), unbiased=False))))
        for m in affine
    ]  # fmt: skip
    G.eval()
    g = torch.Generator().manual_seed(0)
    for label in labels:
        G(label[None], torch.randn(1, z_dim, generator=g) if z_dim > 0 else None)
    for h in hooks:
        h.remove()
    for m in affine:
        mean = torch.stack([s[0] for s in stats[m]]).mean(0)
        var = torch.stack([s[1] for s in stats[m]]).mean(0)
        scale, shift = m.weight.clone(), m.bias.clone()
        m.running_mean.copy_(mean)
        m.running_var.copy_(var)
        m.weight.copy_(scale * torch.sqrt(var + m.eps))
        m.bias.copy_(shift + mean * scale)


def onnx_difference(package: Path, G: nn.Module, num_classes: int, model: ModelConfig, norm: str) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(package / "model.onnx"), providers=["CPUExecutionProvider"])
    label, z = example_inputs(num_classes, model.z_dim, model.height, model.width, batch=2, seed=1)
    feeds = {"label": label.numpy(), **({"z": z.numpy()} if z is not None else {})}
    with torch.no_grad():
        want = inference_copy(G, norm)(label, z).numpy()
    return float(np.abs(sess.run(None, feeds)[0] - want).max())


def recover_checkpoint(
    package: Path, discriminator_from: Path, out: Path, labels: torch.Tensor, tolerance: float = 1e-3
) -> dict:
    """Writes a weights-only fine-tuning checkpoint (as `export --with-weights` does) for `package`."""
    package = Path(package)
    meta, model = read_meta(package)
    classes = class_list_from_json({"classes": meta["classes"], "dontcare": meta.get("dontcare")}, str(package))
    norm = meta["training"]["config"].get("inference_norm", "running")
    if norm not in NORMS:
        raise RecoveryError(
            f"{package / 'model.json'}: training.config.inference_norm {norm!r} is none of {', '.join(NORMS)}; "
            "set it to what the package was exported with, or export the package again from its checkpoint"
        )
    G = build_generator(model, len(classes))
    affine = load_generator(G, onnx_weights(package / "model.onnx"), package, norm)
    if affine:
        calibrate(G, affine, labels, model.z_dim)
    diff = onnx_difference(package, G, len(classes), model, norm)
    if not diff < tolerance:
        raise RecoveryError(
            f"{package}: the recovered generator differs from model.onnx by {diff:.3g} (limit {tolerance}); "
            "nothing was written"
        )
    d_ckpt = checkpoint.load(discriminator_from)
    d_model = from_dict(ModelConfig, d_ckpt["model_config"])
    mismatch = [k for k in DISCRIMINATOR_KEYS if getattr(d_model, k) != getattr(model, k)]
    d_classes = d_ckpt["data"]["classes"]["classes"]
    differs = [f"{k} {getattr(d_model, k)} instead of {getattr(model, k)}" for k in mismatch]
    if [c["name"] for c in d_classes] != list(classes.names):
        differs.append(f"classes {[c['name'] for c in d_classes]}")
    if differs:
        raise RecoveryError(
            f"{discriminator_from}: its discriminator ({'; '.join(differs)}) does not fit {package}; give a "
            "checkpoint trained with the same discriminator, size and classes"
        )
    D = build_discriminator(model, len(classes))
    D.load_state_dict({k: v.float() for k, v in d_ckpt["D"].items()})
    training = meta["training"]
    state = {
        "weights_only": True,
        "step": training.get("steps", 0),
        "world": 1,
        "model_config": {k: v for k, v in training["config"].items() if k in ModelConfig.__dataclass_fields__},
        "train_config": {k: v for k, v in training["config"].items() if k not in ModelConfig.__dataclass_fields__},
        "data": {
            "name": training.get("dataset", ""),
            "images": training.get("images", 0),
            "fingerprint": training.get("data_fingerprint", ""),
            "classes": classes.file_json(),
            "photos": "",
            "labels": "",
        },  # fmt: skip
        "G": G.state_dict(),
        "D": D.state_dict(),
        "E": None,
        "ema": None,
        "recovered_from": str(package / "model.onnx"),
        "discriminator_from": str(discriminator_from),
    }
    path = Path(out)
    if path.suffix != ".pt":
        path = path / checkpoint.NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.save(path, state)
    return {"path": str(path), "max_abs_diff": diff, "calibrated_batch_norms": len(affine)}
