"""Benchmark: training with `--compile` (torch.compile, inductor) against eager, in one process.

Both copies are built by the trainer's own `build_nets` from the same seed and step on the same batch, so the
first steps' losses must agree up to float rounding (inductor reorders sums; measured: at most 5e-5 relative).
Reports the compile time (first steps) and images/s as the median of rounds that alternate eager and compiled,
so machine load hits both.

    PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/compile_speed.py --generator spade --discriminator fp
    PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/compile_speed.py --amp bf16   # both copies in bf16
"""

import argparse
import json
import platform
import statistics
import time

import torch

from scenebrush_trainer.training import distributed
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.setup import build_nets
from scenebrush_trainer.training.step import step


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generator", default="spade")
    p.add_argument("--discriminator", default="fp")
    p.add_argument("--preset", default="small")
    p.add_argument("--height", type=int, default=96)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--num-classes", type=int, default=12)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--steps-per-round", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--amp", default="off", choices=["off", "bf16"], help="both copies in this precision")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = model_config(args.preset, generator=args.generator, discriminator=args.discriminator,
                         height=args.height, width=args.width)  # fmt: skip
    gen = torch.Generator().manual_seed(1)
    label = torch.randint(0, args.num_classes, (1, args.height, args.width), generator=gen)
    real = torch.rand(1, 3, args.height, args.width, generator=gen) * 2 - 1
    z = torch.randn(1, model.z_dim, generator=gen)
    runs, first, setup_s = {}, {}, {}
    for name, compiled in (("eager", False), ("compile", True)):
        train = train_config(compile=compiled, amp=args.amp)
        torch.manual_seed(0)
        nets, _ = build_nets(model, train, args.num_classes, distributed.setup("cpu"))
        t = time.perf_counter()
        first[name] = [step(nets, label, real, z, None, train) for _ in range(3)]
        setup_s[name] = time.perf_counter() - t
        runs[name] = (nets, train)
    rates = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (nets, train) in runs.items():
            t = time.perf_counter()
            for _ in range(args.steps_per_round):
                step(nets, label, real, z, None, train)
            rates[name].append(args.steps_per_round / (time.perf_counter() - t))
    worst = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-6) for a, b in zip(first["eager"], first["compile"]) for k in a)
    print(json.dumps({
        "recipe": f"{args.generator}+{args.discriminator}", "preset": args.preset, "amp": args.amp,
        "size": f"{args.height}x{args.width}", "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "first_3_steps_s": {k: round(v, 1) for k, v in setup_s.items()},
        "images_per_s_median": {k: round(statistics.median(v), 2) for k, v in rates.items()},
        "images_per_s_rounds": {k: [round(x, 2) for x in v] for k, v in rates.items()},
        "speedup": round(statistics.median(rates["compile"]) / statistics.median(rates["eager"]), 2),
        "max_relative_loss_difference_first_3_steps": float(f"{worst:.2e}"),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
