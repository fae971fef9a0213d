"""Benchmark: onnxruntime latency of exported generators against PyTorch eager on the same weights, in one run
(random weights; speed does not depend on them).

PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/onnx_latency.py --preset small --threads 2
PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/onnx_latency.py --ngf 24 --nhidden 48
PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/onnx_latency.py --norm running per-image  # export choices
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from scenebrush_trainer.export.onnx_export import export_generator
from scenebrush_trainer.networks import build_generator
from scenebrush_trainer.networks.inference import NORMS
from scenebrush_trainer.training.config import model_config


def latency(path: Path, num_classes: int, z_dim: int, height: int, width: int, threads: int, runs: int) -> list[float]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {"label": rng.integers(0, num_classes, (1, height, width), dtype=np.int64)}
    if z_dim:
        feed["z"] = rng.standard_normal((1, z_dim), dtype=np.float32)
    for _ in range(3):
        sess.run(None, feed)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1000)
    return times


@torch.no_grad()
def torch_latency(net, num_classes: int, z_dim: int, height: int, width: int, runs: int) -> list[float]:
    net = net.eval()
    g = torch.Generator().manual_seed(0)
    label = torch.randint(0, num_classes, (1, height, width), generator=g)
    z = torch.randn(1, z_dim, generator=g) if z_dim else None
    for _ in range(3):
        net(label, z)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        net(label, z)
        times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small")
    p.add_argument("--generator", nargs="+", default=["spade", "ccfpse"])
    p.add_argument("--ngf", type=int)
    p.add_argument("--nhidden", type=int)
    p.add_argument("--height", type=int, default=192)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--num-classes", type=int, default=12)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--norm", nargs="+", choices=NORMS, default=["running"], help="batch norm in the export")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for gen in args.generator:
        cfg = model_config(args.preset, generator=gen, ngf=args.ngf, nhidden=args.nhidden, height=args.height,
                           width=args.width)  # fmt: skip
        net = build_generator(cfg, args.num_classes, init_gain=1.0)
        eager = torch_latency(net, args.num_classes, cfg.z_dim, cfg.height, cfg.width, args.runs)
        for norm in args.norm:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "model.onnx"
                export_generator(net, args.num_classes, path, norm=norm)
                size = path.stat().st_size
                times = latency(path, args.num_classes, cfg.z_dim, cfg.height, cfg.width, args.threads, args.runs)
            print(json.dumps({
                "generator": gen, "preset": args.preset, "ngf": cfg.ngf, "nhidden": cfg.nhidden, "z_dim": cfg.z_dim,
                "size": f"{cfg.height}x{cfg.width}", "threads": args.threads, "norm": norm,
                "onnx_mb": round(size / 2**20, 1), "median_ms": round(statistics.median(times), 1),
                "min_ms": round(min(times), 1), "torch_eager_median_ms": round(statistics.median(eager), 1),
                "eager_over_ort": round(statistics.median(eager) / statistics.median(times), 2),
            }))  # fmt: skip


if __name__ == "__main__":
    main()
