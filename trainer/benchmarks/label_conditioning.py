"""Diagnostic: how strongly a SPADE-family generator follows its label map, from a checkpoint (run folder or
package checkpoint.pt), run as its export runs (the same batch-norm statistics), on a few CamVid val layouts.
Not a quality score (that is `evaluate`); it tells a generator that draws its layout from z apart from one that
draws it from the labels.

- modulation: mean |gamma| and |beta| of every SPADE or CLADE norm over the layouts (the scale is 1 + gamma),
  and gamma's spatial SD (how much it varies across the image);
- uniform maps: the image rendered from a label map of one class everywhere, for a few classes and one z: the
  mean absolute difference between the classes' images on a 0-1 scale (near 0: the class is ignored).

    env PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/label_conditioning.py runs/a models/camvid-spade
"""

import argparse
import json
from itertools import combinations
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from scenebrush_trainer.data.presets import camvid
from scenebrush_trainer.networks import build_generator
from scenebrush_trainer.networks.inference import inference_copy, inference_norm
from scenebrush_trainer.networks.layers import CLADENorm, SPADENorm, resize_nearest
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.config import ModelConfig, from_dict

UNIFORM = ("Sky", "Building", "Road", "Tree")


def modulation(norm, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if cond.shape[2:] != x.shape[2:]:
        cond = resize_nearest(cond, x.shape[2:])
    if isinstance(norm, SPADENorm):
        h = norm.shared(cond)
        return norm.gamma(h), norm.beta(h)
    return F.conv2d(cond, norm.gamma), F.conv2d(cond, norm.beta)


@torch.no_grad()
def diagnose(path: Path, layouts: int, seed: int) -> dict:
    ckpt = checkpoint.load(path)
    cfg = from_dict(ModelConfig, ckpt["model_config"])
    classes = ckpt["data"]["classes"]["classes"]
    names = [c["name"] for c in classes]
    g = build_generator(cfg, len(names))
    g.load_state_dict({k: v.float() for k, v in (ckpt.get("ema") or ckpt["G"]).items()})
    g = inference_copy(g, inference_norm(ckpt["train_config"], world=ckpt.get("world", 1)))  # as exported
    spec = camvid(split="val")
    files = sorted(spec.labels.iterdir())[:layouts]
    size = (cfg.width, cfg.height)
    labels = torch.stack(
        [torch.from_numpy(np.array(Image.open(f).resize(size, Image.NEAREST), np.int64)) for f in files]
    )
    stats = []

    def hook(norm, inputs, _out):
        gamma, beta = modulation(norm, *inputs)
        stats.append((gamma.abs().mean().item(), beta.abs().mean().item(), gamma.std(dim=(2, 3)).mean().item()))

    hooks = [m.register_forward_hook(hook) for m in g.modules() if isinstance(m, (SPADENorm, CLADENorm))]
    z = torch.randn(len(labels), cfg.z_dim, generator=torch.Generator().manual_seed(seed)) if cfg.z_dim else None
    g(labels, z)
    for h in hooks:
        h.remove()
    gamma, beta, spatial = np.array(stats).mean(0)
    present = [n for n in UNIFORM if n in names]
    uniform = torch.stack([torch.full((cfg.height, cfg.width), names.index(n), dtype=torch.long) for n in present])
    z1 = z[:1].expand(len(present), -1) if z is not None else None
    images = (g(uniform, z1).clamp(-1, 1) + 1) / 2
    pairs = [float((images[i] - images[j]).abs().mean()) for i, j in combinations(range(len(present)), 2)]
    return {"checkpoint": str(path), "step": ckpt["step"], "modulation": cfg.modulation, "mean_abs_gamma": gamma,
            "mean_abs_beta": beta, "gamma_spatial_sd": spatial, "uniform_classes": present,
            "uniform_mean_difference": float(np.mean(pairs))}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", type=Path, help="run folders or checkpoint files")
    p.add_argument("--layouts", type=int, default=4, help="val layouts (default 4)")
    p.add_argument("--seed", type=int, default=0, help="z seed")
    args = p.parse_args()
    torch.set_num_threads(1)
    for path in args.checkpoints:
        print(json.dumps(diagnose(path, args.layouts, args.seed)))


if __name__ == "__main__":
    main()
