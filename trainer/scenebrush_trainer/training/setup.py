"""Builds (or restores) everything a run needs: networks, optimisers, EMA, data."""

import hashlib
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.check import CheckReport
from ..data.dataset import PairedDataset, to_model_range
from ..losses import VGGLoss
from ..networks import build_discriminator, build_encoder, build_generator, fit_generator_state
from ..networks.layers import ZeroLinear
from . import distributed
from .config import ModelConfig, TrainConfig, styles_per_layout
from .ema import EMA
from .events import log
from .step import Nets

CACHE_LIMIT = 4 << 30  # preload datasets up to 4 GiB of resized tensors


@dataclass
class Run:
    """A run's networks, data and position."""

    model: ModelConfig
    train: TrainConfig
    nets: Nets
    ema: EMA | None
    data: PairedDataset
    dist: distributed.Dist
    step: int = 0
    compile_note: str = ""  # why this process compiles G and D (compiling.py), for the `compile` event


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_nets(
    model: ModelConfig, train: TrainConfig, num_classes: int, d: distributed.Dist
) -> tuple[Nets, EMA | None]:
    G = build_generator(model, num_classes).to(d.device)
    D = build_discriminator(model, num_classes).to(d.device)
    E = build_encoder(model)
    E = E.to(d.device) if E is not None else None
    if train.channels_last and d.device.type == "cuda":
        for net in (G, D, E):
            if net is not None:
                net.to(memory_format=torch.channels_last)
    ema = EMA(G, train.ema) if train.ema > 0 else None
    if train.compile:
        # in place, so state_dict keys (checkpoints, export) stay those of the plain modules; after the EMA copy,
        # which must stay a plain module
        G.compile()
        D.compile()
    g_params = list(G.parameters()) + (list(E.parameters()) if E is not None else [])
    betas = (train.beta1, train.beta2)
    opt_g = torch.optim.Adam(g_params, lr=train.lr_g, betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=train.lr_d, betas=betas)
    fp16 = d.device.type == "cuda" and train.amp == "fp16"
    scaler_g, scaler_d = (torch.amp.GradScaler("cuda", enabled=fp16) for _ in range(2))
    vgg = VGGLoss(train.vgg_weights).to(d.device) if train.vgg_weights else None
    nets = Nets(
        distributed.wrap(G, d, sync_bn=True), distributed.wrap(D, d), distributed.wrap(E, d, sync_bn=True),
        opt_g, opt_d, scaler_g, scaler_d, vgg,
    )  # fmt: skip
    return nets, ema


def load_data(report: CheckReport, model: ModelConfig) -> PairedDataset:
    data = PairedDataset(report.spec, report.pairs, model.height, model.width)
    if data.cache_bytes() <= CACHE_LIMIT:
        data.preload()
        log.info(
            "preloaded %d pairs at %dx%d (%.0f MiB)", len(data), model.width, model.height, data.cache_bytes() / 2**20
        )
    else:
        log.info("dataset too large to preload (%.1f GiB): reading files every step", data.cache_bytes() / 2**30)
    return data


def state_dict(run: Run) -> dict:
    nets, unwrap = run.nets, distributed.unwrap
    return {
        "step": run.step,
        "world": run.dist.world,
        "model_config": asdict(run.model),
        "train_config": asdict(run.train),
        "data": {
            "name": run.data.spec.name,
            "photos": str(run.data.spec.photos.resolve()),
            "labels": str(run.data.spec.labels.resolve()),
            "images": len(run.data),
            "fingerprint": run.data.fingerprint(),
            "classes": run.data.spec.classes.file_json(),
        },
        "G": unwrap(nets.G).state_dict(),
        "D": unwrap(nets.D).state_dict(),
        "E": unwrap(nets.E).state_dict() if nets.E is not None else None,
        "ema": run.ema.model.state_dict() if run.ema else None,
        "opt_g": nets.opt_g.state_dict(),
        "opt_d": nets.opt_d.state_dict(),
        "scaler_g": nets.scaler_g.state_dict(),
        "scaler_d": nets.scaler_d.state_dict(),
    }


def load_weights(run: Run, ckpt: dict, optimisers: bool, discriminator: bool = True) -> None:
    """`discriminator` False: D keeps its fresh weights (a fine-tune with another kind of discriminator)."""
    nets, unwrap = run.nets, distributed.unwrap
    load_adding_style_norms(unwrap(nets.G), ckpt["G"])
    if discriminator:
        unwrap(nets.D).load_state_dict(ckpt["D"])
    if nets.E is not None and ckpt.get("E"):
        load_adding_style_norms(unwrap(nets.E), ckpt["E"])
    if run.ema is not None:
        load_adding_style_norms(run.ema.model, ckpt["ema"] or ckpt["G"])
    if optimisers:
        nets.opt_g.load_state_dict(ckpt["opt_g"])
        nets.opt_d.load_state_dict(ckpt["opt_d"])
        nets.scaler_g.load_state_dict(ckpt["scaler_g"])
        nets.scaler_d.load_state_dict(ckpt["scaler_d"])


def learning_rate(base: float, step: int, cfg: TrainConfig) -> float:
    """Constant, then linear decay to zero over the last (1 - decay_from) of the steps."""
    start = int(cfg.steps * cfg.decay_from)
    if step < start:
        return base
    return base * max(0.0, (cfg.steps - step) / max(1, cfg.steps - start))


def step_generator(seed: int, step: int, rank: int, stream: str = "") -> torch.Generator:
    """Every random draw of a step comes from (seed, step, rank): resuming needs no RNG replay. A named stream
    (the training step's DiffAugment and LabelMix) draws apart from the batch's, which stays as it was without it."""
    digest = hashlib.sha256(f"{seed}/{step}/{rank}{'/' + stream if stream else ''}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def batch_for(run: Run, step: int):
    """(label int64, photo in [-1, 1], z, eps) for this rank at this step; epochs are seeded permutations."""
    cfg, d, n = run.train, run.dist, len(run.data)
    per_step = cfg.batch_size * d.world
    epoch, k = divmod(step, max(1, n // per_step))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch))
    idx = perm[(k * per_step + d.rank * cfg.batch_size + torch.arange(cfg.batch_size)) % n]
    photos, labels = run.data.batch(idx)
    g = step_generator(cfg.seed, step, d.rank)
    if cfg.flip:
        flip = torch.rand(len(idx), generator=g) < 0.5
        photos[flip], labels[flip] = photos[flip].flip(-1), labels[flip].flip(-1)
    z_dim = run.model.z_dim
    styles = styles_per_layout(run.model, cfg)  # z rows are style-major: all layouts' first style, then the second
    noise = torch.randn(styles * len(idx), z_dim, generator=g) if z_dim > 0 else None
    real = to_model_range(photos).to(d.device)
    if cfg.channels_last and d.device.type == "cuda":
        real = real.contiguous(memory_format=torch.channels_last)
    noise = noise.to(d.device) if noise is not None else None
    # with a style encoder the noise is the reparameterisation's eps, else it is z itself
    z, eps = (None, noise) if run.nets.E is not None else (noise, None)
    return labels.to(d.device), real, z, eps


def epochs(run: Run, steps: int) -> float:
    return steps * run.train.batch_size * run.dist.world / max(1, len(run.data))


def checkpoint_path(out: Path) -> Path:
    return Path(out) / "checkpoint.pt"


def load_adding_style_norms(net: torch.nn.Module, state: dict) -> None:
    """Loads G's or E's weights, where only what a fine-tune's --style-norms adds may be missing from `state`
    (and full CC-FPSE predictors are folded into the light ones a --light-predictors fine-tune asks for); anything
    else missing or unknown fails as load_state_dict does."""
    state = fit_generator_state(net, state)
    added = {f"{name}.{p}" for name, m in net.named_modules() if isinstance(m, ZeroLinear) for p in ("weight", "bias")}
    missing, unexpected = net.load_state_dict(state, strict=False)
    other = [k for k in missing if k not in added]
    if other or unexpected:
        raise RuntimeError(
            f"the checkpoint's {type(net).__name__} does not fit this one: missing {other}, unexpected {unexpected}"
        )
