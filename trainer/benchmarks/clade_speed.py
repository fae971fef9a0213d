"""Benchmark: the SPADE generator with SPADE's label modulation against CLADE's (`train --modulation clade`), in one
run so that both see the same machine load: parameters and GMAC, ONNX Runtime latency of exported packages (batch 1,
per thread count, the two models interleaved run by run) and PyTorch eager training images/s (the two interleaved step
by step).

Random weights (speed does not depend on them; CLADE's gamma/beta are drawn too, as a trained model's differ
from their start). The packages are written to OUT/packages as a trained batch-1 run exports them (per-image
statistics), so the app's benchmark can time them as well:

    env PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/clade_speed.py --out runs/clade-scratch
    taskset -c 0 target/release/deps/inference-* --bench --models-dir runs/clade-scratch/packages --runs 20
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from scenebrush_trainer.data.classes import CAMVID
from scenebrush_trainer.export.fixtures import untrained_meta
from scenebrush_trainer.export.package import write_package
from scenebrush_trainer.networks import build_discriminator, build_generator
from scenebrush_trainer.networks.complexity import count_macs, count_params
from scenebrush_trainer.networks.layers import MODULATIONS, CLADENorm
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.step import Nets, step


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def generator(cfg, num_classes: int) -> torch.nn.Module:
    torch.manual_seed(0)
    g = build_generator(cfg, num_classes, init_gain=1.0)  # gain 1, as trainer/benchmarks/onnx_latency.py
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, CLADENorm):
                m.gamma.normal_(0, 0.2)
                m.beta.normal_(0, 0.2)
    return g


def complexity(cfg, num_classes: int) -> tuple[int, int]:
    with torch.device("meta"):
        g = build_generator(cfg, num_classes).eval()
        label = torch.zeros(1, cfg.height, cfg.width, dtype=torch.long)
        z = torch.zeros(1, cfg.z_dim) if cfg.z_dim else None
        return count_params(g), count_macs(g, label, z)


def package(out: Path, cfg, mod: str) -> Path:
    pkg = out / "packages" / f"bench-{mod}-small"
    meta = untrained_meta(pkg.name, f"SPADE {mod} modulation (untrained, benchmark)", cfg)
    write_package(pkg, meta, generator(cfg, len(CAMVID)), norm="per-image")
    return pkg


def median_p90(times: list[float]) -> dict:
    return {"median_ms": round(statistics.median(times), 2), "p90_ms": round(float(np.percentile(times, 90)), 2)}


def onnx_latency(pkgs: dict[str, Path], cfg, threads: int, runs: int) -> dict[str, dict]:
    rng = np.random.default_rng(0)
    feed = {"label": rng.integers(0, len(CAMVID), (1, cfg.height, cfg.width), dtype=np.int64)}
    if cfg.z_dim:
        feed["z"] = rng.standard_normal((1, cfg.z_dim), dtype=np.float32)
    sessions = {}
    for mod, pkg in pkgs.items():
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        sessions[mod] = ort.InferenceSession(str(pkg / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    times = {mod: [] for mod in sessions}
    for i in range(3 + runs):  # 3 warm-up runs each, then interleaved: both see the same load
        for mod, sess in sessions.items():
            t = time.perf_counter()
            sess.run(None, feed)
            if i >= 3:
                times[mod].append((time.perf_counter() - t) * 1000)
    return {mod: median_p90(t) for mod, t in times.items()}


def training_speed(cfgs: dict, num_classes: int, steps: int) -> dict[str, dict]:
    """Eager training steps (G and D, the repo's default recipe without VGG), batch 1, interleaved."""
    tcfg = train_config()
    nets, batches = {}, {}
    for mod, cfg in cfgs.items():
        torch.manual_seed(0)
        G, D = build_generator(cfg, num_classes), build_discriminator(cfg, num_classes)
        opt_g = torch.optim.Adam(G.parameters(), tcfg.lr_g, betas=(tcfg.beta1, tcfg.beta2))
        opt_d = torch.optim.Adam(D.parameters(), tcfg.lr_d, betas=(tcfg.beta1, tcfg.beta2))
        scalers = [torch.amp.GradScaler("cuda", enabled=False) for _ in range(2)]
        nets[mod] = Nets(G, D, None, opt_g, opt_d, *scalers)
        g = torch.Generator().manual_seed(1)
        label = torch.randint(0, num_classes, (1, cfg.height // 16, cfg.width // 16), generator=g)
        label = label.repeat_interleave(16, 1).repeat_interleave(16, 2)  # blocky layouts, as photos' regions
        batches[mod] = (label, torch.rand(1, 3, cfg.height, cfg.width, generator=g) * 2 - 1,
                        torch.randn(1, cfg.z_dim, generator=g))  # fmt: skip
    times = {mod: [] for mod in nets}
    for i in range(1 + steps):  # 1 warm-up step each
        for mod in nets:
            t = time.perf_counter()
            step(nets[mod], *batches[mod], None, tcfg)
            if i >= 1:
                times[mod].append(time.perf_counter() - t)
    return {mod: {"images_per_s": round(1 / statistics.median(t), 3),
                  "median_step_s": round(statistics.median(t), 3)} for mod, t in times.items()}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="writes OUT/packages/bench-{spade,clade}-small")
    p.add_argument("--preset", default="small")
    p.add_argument("--height", type=int, default=192)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--z-dim", type=int, default=256, help="as the shipped models/camvid-spade")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="ONNX Runtime intra-op threads")
    p.add_argument("--runs", type=int, default=20, help="timed ONNX Runtime runs per model and thread count")
    p.add_argument("--train-steps", type=int, default=5, help="timed training steps per model (0: none)")
    p.add_argument("--train-threads", type=int, default=1, help="PyTorch threads for the training steps")
    args = p.parse_args()
    torch.set_num_threads(args.train_threads)
    cfgs = {mod: model_config(args.preset, modulation=mod, z_dim=args.z_dim, height=args.height, width=args.width)
            for mod in MODULATIONS}  # fmt: skip
    result = {"load_before": load(), "cpus": os.cpu_count()}
    for mod, cfg in cfgs.items():
        params, macs = complexity(cfg, len(CAMVID))
        result[f"{mod}_params_m"], result[f"{mod}_gmac"] = round(params / 1e6, 2), round(macs / 1e9, 2)
    pkgs = {mod: package(args.out, cfg, mod) for mod, cfg in cfgs.items()}
    for threads in args.threads:
        result[f"onnxruntime_{threads}t"] = onnx_latency(pkgs, cfgs["spade"], threads, args.runs)
        result[f"load_after_onnxruntime_{threads}t"] = load()
    if args.train_steps:
        result[f"train_{args.train_threads}t"] = training_speed(cfgs, len(CAMVID), args.train_steps)
    result["load_after"] = load()
    print(json.dumps(result, indent=1))
    for threads in args.threads:
        spade, clade = (result[f"onnxruntime_{threads}t"][mod]["median_ms"] for mod in MODULATIONS)
        print(
            f"onnxruntime {threads} thread(s): spade {spade} ms, clade {clade} ms (median of {args.runs}); "
            f"ratio {spade / clade:.2f}x"
        )
    if args.train_steps:
        r = result[f"train_{args.train_threads}t"]
        print(f"training {args.train_threads} thread(s): spade {r['spade']['images_per_s']} images/s, clade "
              f"{r['clade']['images_per_s']} images/s (median of {args.train_steps} steps)")  # fmt: skip


if __name__ == "__main__":
    main()
