"""Benchmark: training images/s of several recipes (generator:discriminator:diffaug), interleaved step by step in
one process so that a shared machine's load falls on all of them alike; reports the median step.

    PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/recipe_speed.py --threads 1 --steps 30 \\
        spade:fp:off spade:oasis:off spade:fp:color,translation,cutout
"""

import argparse
import json
import platform
import statistics
import time

import torch

from scenebrush_trainer.networks import build_discriminator, build_generator
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.diffaug import parse_policy
from scenebrush_trainer.training.step import Nets, step


def build(recipe: str, args):
    gen, disc, policy = recipe.split(":", 2)
    cfg = model_config(args.preset, generator=gen, discriminator=disc, height=args.height, width=args.width)
    tcfg = train_config(diffaug=parse_policy(policy))
    torch.manual_seed(0)
    G, D = build_generator(cfg, args.num_classes), build_discriminator(cfg, args.num_classes)
    opts = [torch.optim.Adam(n.parameters(), lr, betas=(0.0, 0.9)) for n, lr in ((G, tcfg.lr_g), (D, tcfg.lr_d))]
    nets = Nets(G, D, None, *opts, *(torch.amp.GradScaler("cuda", enabled=False) for _ in range(2)))
    return nets, cfg, tcfg


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recipes", nargs="+", help="generator:discriminator:diffaug, e.g. spade:oasis:off")
    p.add_argument("--preset", default="small")
    p.add_argument("--height", type=int, default=96)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--num-classes", type=int, default=12)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    runs = {r: build(r, args) for r in args.recipes}
    g = torch.Generator().manual_seed(0)
    # street-like block layouts (the cost does not depend on the pixels)
    label = torch.randint(0, args.num_classes, (1, args.height // 16, args.width // 16), generator=g)
    label = label.repeat_interleave(16, 1).repeat_interleave(16, 2)
    real = torch.rand(1, 3, args.height, args.width, generator=g) * 2 - 1
    times = {r: [] for r in runs}
    for i in range(args.warmup + args.steps):
        for recipe, (nets, cfg, tcfg) in runs.items():
            z = torch.randn(1, cfg.z_dim, generator=g)
            t = time.perf_counter()
            step(nets, label, real, z, None, tcfg, torch.Generator().manual_seed(i))
            if i >= args.warmup:
                times[recipe].append(time.perf_counter() - t)
    for recipe, ts in times.items():
        med = statistics.median(ts)
        print(json.dumps({
            "recipe": recipe, "preset": args.preset, "size": f"{args.height}x{args.width}", "batch": 1,
            "threads": args.threads, "steps": len(ts), "median_s": round(med, 4), "images_per_s": round(1 / med, 3),
            "min_s": round(min(ts), 4), "max_s": round(max(ts), 4), "cpu": platform.processor() or platform.machine(),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
