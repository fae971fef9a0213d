"""Benchmark: CC-FPSE with full against light predictors (`train --light-predictors`), in one run, interleaved:
ONNX Runtime latency of the exported generator, and PyTorch training steps (G and D, the trainer's own step).
Random weights (speed does not depend on them); multiply-adds and parameters as `info` counts them.

PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/light_predictors.py --threads 1 --runs 9
PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/light_predictors.py --threads 2 --amp bf16 --json out.json
"""

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from scenebrush_trainer.export.onnx_export import export_generator
from scenebrush_trainer.networks import build_discriminator, build_generator
from scenebrush_trainer.networks.ccfpse_generator import PREDICTORS
from scenebrush_trainer.networks.complexity import count_macs, count_params
from scenebrush_trainer.training.config import model_config, train_config
from scenebrush_trainer.training.step import Nets, step

CLASSES = 12


def training_nets(cfg, tcfg) -> Nets:
    torch.manual_seed(0)
    G, D = build_generator(cfg, CLASSES), build_discriminator(cfg, CLASSES)
    opt_g = torch.optim.Adam(G.parameters(), tcfg.lr_g, betas=(tcfg.beta1, tcfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), tcfg.lr_d, betas=(tcfg.beta1, tcfg.beta2))
    return Nets(G, D, None, opt_g, opt_d, *(torch.amp.GradScaler("cuda", enabled=False) for _ in range(2)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small")
    p.add_argument("--height", type=int, default=192)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=9, help="timed rounds; each times every variant once (default 9)")
    p.add_argument("--amp", default="off", choices=["off", "bf16"], help="training steps' precision (default off)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    base = model_config(args.preset, generator="ccfpse", height=args.height, width=args.width)
    rng = np.random.default_rng(0)
    feed = {
        "label": rng.integers(0, CLASSES, (1, args.height, args.width), dtype=np.int64),
        "z": rng.standard_normal((1, base.z_dim), dtype=np.float32),
    }
    label, z = torch.from_numpy(feed["label"]), torch.from_numpy(feed["z"])
    photo = torch.rand(1, 3, args.height, args.width) * 2 - 1
    tcfg = train_config(amp=args.amp)
    variants, figures = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in PREDICTORS:
            cfg = replace(base, predictors=name)
            torch.manual_seed(0)
            g = build_generator(cfg, CLASSES).eval()
            path = Path(tmp) / f"{name}.onnx"
            export_generator(g, CLASSES, path)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads = args.threads, 1
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            nets = training_nets(cfg, tcfg)
            variants[name] = (sess, nets)
            with torch.no_grad():
                macs = count_macs(g, label, z)
            figures[name] = {"gmac": round(macs / 1e9, 2), "params_m": round(count_params(g) / 1e6, 2),
                             "onnx_ms": [], "train_img_s": []}  # fmt: skip
        for _ in range(2):  # warm-up
            for sess, nets in variants.values():
                sess.run(None, feed)
                step(nets, label, photo, z, None, tcfg)
        for _ in range(args.runs):
            for name, (sess, nets) in variants.items():
                t = time.perf_counter()
                sess.run(None, feed)
                figures[name]["onnx_ms"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                step(nets, label, photo, z, None, tcfg)
                figures[name]["train_img_s"].append(1 / (time.perf_counter() - t))
    out = {"threads": args.threads, "amp": args.amp, "runs": args.runs, "size": [args.height, args.width]}
    for name, f in figures.items():
        out[name] = {**f, "onnx_ms": round(statistics.median(f["onnx_ms"]), 1),
                     "train_img_s": round(statistics.median(f["train_img_s"]), 3)}  # fmt: skip
    out["speedup"] = {
        "onnx": round(out["full"]["onnx_ms"] / out["light"]["onnx_ms"], 2),
        "train": round(out["light"]["train_img_s"] / out["full"]["train_img_s"], 2),
    }
    print(json.dumps(out, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
