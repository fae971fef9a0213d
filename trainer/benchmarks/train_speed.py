"""Benchmark: training images/s and peak memory for each generator x discriminator.

Synthetic batches (speed does not depend on the pixels). On CPU it reports peak resident memory of the
process; on CUDA, peak allocated GPU memory.

    PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/train_speed.py --preset small --steps 5
    PYTHONPATH=trainer python trainer/benchmarks/train_speed.py --preset paper --device cuda --batch-size 4 --amp bf16
    PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/train_speed.py --discriminator fpse --amp off bf16
"""

import argparse
import json
import resource
import time

import torch

from scenebrush_trainer.networks import build_discriminator, build_generator
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.step import Nets, step


def bench(spec: str, disc: str, args) -> dict:
    """spec: a generator, optionally with its modulation and style norms, or CC-FPSE's light predictors: spade,
    spade:clade, spade:clade:style, ccfpse:light."""
    gen, *options = spec.split(":")
    modulation = next((o for o in options if o not in ("style", "light")), "spade")
    dev = torch.device(args.device)
    cfg = model_config(args.preset, generator=gen, discriminator=disc, height=args.height, width=args.width,
                       modulation=modulation, style_norms="style" in options,
                       predictors="light" if "light" in options else "full")  # fmt: skip
    tcfg = train_config(amp=args.amp, channels_last=args.channels_last)
    torch.manual_seed(0)
    G = build_generator(cfg, args.num_classes).to(dev)
    D = build_discriminator(cfg, args.num_classes).to(dev)
    if args.channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    fp16 = dev.type == "cuda" and args.amp == "fp16"
    opt_g = torch.optim.Adam(G.parameters(), tcfg.lr_g, betas=(tcfg.beta1, tcfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), tcfg.lr_d, betas=(tcfg.beta1, tcfg.beta2))
    scalers = [torch.amp.GradScaler("cuda", enabled=fp16) for _ in range(2)]
    nets = Nets(G, D, None, opt_g, opt_d, *scalers)
    n = args.batch_size
    label = torch.randint(0, args.num_classes, (n, cfg.height, cfg.width), device=dev)
    real = torch.rand(n, 3, cfg.height, cfg.width, device=dev) * 2 - 1
    if args.channels_last:
        real = real.contiguous(memory_format=torch.channels_last)
    z = torch.randn(n, cfg.z_dim, device=dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(args.warmup):
        step(nets, label, real, z, None, tcfg)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(args.steps):
        step(nets, label, real, z, None, tcfg)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t
    peak = (
        torch.cuda.max_memory_allocated()
        if dev.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    return {
        "generator": spec, "discriminator": disc, "preset": args.preset, "size": f"{cfg.height}x{cfg.width}",
        "batch": n, "device": str(dev), "amp": args.amp, "channels_last": args.channels_last,
        "images_per_s": round(n * args.steps / elapsed, 2), "peak_mib": round(peak / 2**20),
        "peak_kind": "cuda allocated" if dev.type == "cuda" else "process rss (cumulative max)",
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small")
    p.add_argument("--generator", nargs="+", default=["spade", "ccfpse"],
                   help="generators, each NAME[:MODULATION][:style], e.g. spade spade:clade:style ccfpse")  # fmt: skip
    p.add_argument("--discriminator", nargs="+", default=["patchgan", "fp", "fpse"])
    p.add_argument("--height", type=int, default=192)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--num-classes", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--amp", nargs="+", default=["off"], choices=["off", "bf16", "fp16"],
                   help="one or more: each network in each, one after the other (bf16 runs on CPUs too)")  # fmt: skip
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--threads", type=int)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for gen in args.generator:
        for disc in args.discriminator:
            for amp in args.amp:  # adjacent, so that both see the same machine load
                print(json.dumps(bench(gen, disc, argparse.Namespace(**{**vars(args), "amp": amp}))), flush=True)


if __name__ == "__main__":
    main()
