"""`info`: parameters and multiply-adds per network of a preset, and the paper preset vs the published sizes."""

from dataclasses import replace

import torch

from ..data.presets import PRESETS
from ..networks import DISCRIMINATORS, GENERATORS, build_discriminator, build_encoder, build_generator
from ..networks.complexity import count_macs, count_params
from ..training.config import MODEL_PRESETS, model_config
from ..training.diffaug import OFF, POLICIES
from .argtypes import integer

NAME = "info"
HELP = "parameter counts and multiply-adds of a preset's networks"

# Sizes stated for ngf 64 at 256x256 (COCO-Stuff classes): SPADE without z, CC-FPSE with the z head.
PAPER = {"spade": (97e6, 191e9, 0), "ccfpse": (142e6, 456e9, 256)}
CLASSES = {"camvid": 12, "coco_stuff": 183}


def add_arguments(p) -> None:
    p.add_argument("--preset", default="small", choices=sorted(MODEL_PRESETS))
    p.add_argument("--height", type=integer(32), default=192)
    p.add_argument("--width", type=integer(32), default=256)
    p.add_argument("--num-classes", type=integer(1), help="class ids incl. don't care (default: the --dataset's)")
    p.add_argument("--dataset", default="camvid", choices=sorted(PRESETS))
    p.add_argument("--z-dim", type=integer(0), help="override the preset's z_dim (0: no z input)")


def measure(cfg, num_classes: int) -> list[tuple[str, int, int]]:
    """(network, parameters, MACs at batch 1); shape-only tensors, so even the paper sizes take seconds."""
    rows = []
    with torch.device("meta"):
        label = torch.zeros(1, cfg.height, cfg.width, dtype=torch.long)
        image = torch.zeros(1, 3, cfg.height, cfg.width)
        z = torch.zeros(1, cfg.z_dim) if cfg.z_dim > 0 else None
        for gen in GENERATORS:
            g = build_generator(replace(cfg, generator=gen), num_classes).eval()
            rows.append((f"generator {gen}", count_params(g), count_macs(g, label, z)))
            if gen == "spade":
                g = build_generator(replace(cfg, generator=gen, modulation="clade"), num_classes).eval()
                rows.append(("generator spade (clade)", count_params(g), count_macs(g, label, z)))
        for disc in DISCRIMINATORS:
            d = build_discriminator(replace(cfg, discriminator=disc), num_classes).eval()
            rows.append((f"discriminator {disc}", count_params(d), count_macs(d, image, label)))
        e = build_encoder(replace(cfg, encoder=True, z_dim=cfg.z_dim or 256)).eval()
        rows.append(("style encoder", count_params(e), count_macs(e, image)))
    return rows


def table(rows) -> str:
    lines = [f"{'network':<24}{'params':>12}{'GMACs':>12}"]
    lines += [f"{name:<24}{p / 1e6:>11.2f}M{m / 1e9:>12.2f}" for name, p, m in rows]
    return "\n".join(lines)


def run(args) -> int:
    num_classes = args.num_classes or CLASSES[args.dataset]
    over = {"height": args.height, "width": args.width, "z_dim": args.z_dim}
    cfg = model_config(args.preset, **over)
    print(f"preset {args.preset}: ngf {cfg.ngf}, ndf {cfg.ndf}, nhidden {cfg.nhidden}, z_dim {cfg.z_dim}, "
          f"{args.height}x{args.width}, {num_classes} class ids")  # fmt: skip
    print(table(measure(cfg, num_classes)))
    print(f"train options: --discriminator {' | '.join(DISCRIMINATORS)}; --diffaug {OFF} or a comma-separated list of "
          f"{', '.join(POLICIES)} (DiffAugment, no parameters)")  # fmt: skip
    if args.preset == "paper":
        print("\npaper preset at 256x256 with COCO-Stuff's 183 class ids vs the published sizes:")
        for gen, (params, macs, z_dim) in PAPER.items():
            cfg = model_config("paper", generator=gen, height=256, width=256, z_dim=z_dim)
            with torch.device("meta"):
                g = build_generator(cfg, 183).eval()
                z = torch.zeros(1, z_dim) if z_dim else None
                got_m = count_macs(g, torch.zeros(1, 256, 256, dtype=torch.long), z)
            got_p = count_params(g)
            print(f"  {gen:<7} z_dim {z_dim:<4} params {got_p / 1e6:7.2f}M (published ~{params / 1e6:.0f}M, "
                  f"{100 * (got_p / params - 1):+.1f}%)  MACs {got_m / 1e9:7.1f}G (published ~{macs / 1e9:.0f}G, "
                  f"{100 * (got_m / macs - 1):+.1f}%)")  # fmt: skip
        print("  (with z the trunk starts from a linear z -> 16*ngf*sh*sw map instead of a 3x3 conv on the labels)")
    return 0
