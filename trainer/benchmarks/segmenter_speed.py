"""Benchmark: the cost of each segmenter architecture at the generators' size (issue 13, "a stronger ruler").

For each: parameters, multiply-adds of one 192x256 forward pass, training images/s (train-segmenter's step:
channels-last, Adam, weighted cross-entropy, batch 8, after warm-up steps; random photos, speed does not depend
on them) and onnxruntime inference ms per image (the exported graph, batch 1), all on one thread. CPU seconds
(process time) are reported beside wall seconds: on a shared machine they are the better guide to CPU-hours.

PYTHONPATH=trainer OMP_NUM_THREADS=1 .venv/bin/python trainer/benchmarks/segmenter_speed.py
PYTHONPATH=trainer OMP_NUM_THREADS=1 .venv/bin/python trainer/benchmarks/segmenter_speed.py --arch dabnet --steps 5
PYTHONPATH=trainer OMP_NUM_THREADS=1 .venv/bin/python trainer/benchmarks/segmenter_speed.py --arch fcdensenet56:0.67
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch import nn

from scenebrush_trainer.export.segmenter import export_segmenter_onnx
from scenebrush_trainer.networks.complexity import count_macs, count_params
from scenebrush_trainer.networks.segmenter import build_segmenter, segmenter_architectures

TRAIN_IMAGES = 367  # CamVid train
VAL_IMAGES = 101  # validated after every epoch (a forward pass each)


def macs(net: nn.Module, height: int, width: int) -> int:
    """count_macs plus transposed convolutions (which it does not hook): in_pixels * cout/groups * k*k * cin."""
    extra = 0

    def tconv(m, inp, _out):
        nonlocal extra
        kh, kw = m.kernel_size
        extra += inp[0][0].numel() * (m.out_channels // m.groups) * kh * kw

    hooks = [m.register_forward_hook(tconv) for m in net.modules() if isinstance(m, nn.ConvTranspose2d)]
    try:
        return count_macs(net.eval(), torch.zeros(1, 3, height, width)) + extra
    finally:
        for h in hooks:
            h.remove()


def train_speed(net: nn.Module, height: int, width: int, batch: int, warmup: int, steps: int) -> tuple[float, float]:
    """(wall s, CPU s) per training step, medians over `steps` after `warmup`."""
    net = net.train().to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, 3, height, width, generator=g) * 2 - 1).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 11, (batch, height, width), generator=g)
    y[:, :4, :4] = 11
    w = torch.rand(12, generator=g) + 0.5
    walls, cpus = [], []
    for i in range(warmup + steps):
        t, c = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(net(x), y, weight=w, ignore_index=11)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def onnx_speed(net: nn.Module, height: int, width: int, runs: int, flip_tta: bool) -> tuple[float, float]:
    """(wall ms, CPU ms) per image, medians, onnxruntime with one thread, batch 1."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_segmenter_onnx(net, path, flip_tta=flip_tta)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feed = {"image": np.random.default_rng(0).uniform(-1, 1, (1, 3, height, width)).astype(np.float32)}
    for _ in range(2):
        sess.run(None, feed)
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        sess.run(None, feed)
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", nargs="+", default=list(segmenter_architectures()), help="NAME or NAME:WIDTH_MULT")
    p.add_argument("--height", type=int, default=192)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--runs", type=int, default=5, help="onnxruntime runs per graph")
    p.add_argument("--flip-tta", action="store_true", help="also time the flip-averaged graph")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {os.cpu_count()} CPUs, 1 thread")
    rows = []
    for spec in args.arch:
        name, _, mult = spec.partition(":")
        mult = float(mult or 1)
        torch.manual_seed(0)
        net = build_segmenter(name, 12, args.height, args.width, mult)
        row = {"architecture": name, "width_mult": mult, "params": count_params(net)}
        row["gmacs"] = macs(net, args.height, args.width) / 1e9
        wall, cpu = train_speed(net, args.height, args.width, args.batch, args.warmup, args.steps)
        row["train_images_per_s"] = args.batch / wall
        row["train_cpu_s_per_image"] = cpu / args.batch
        row["onnx_ms"], row["onnx_cpu_ms"] = onnx_speed(net, args.height, args.width, args.runs, False)
        if args.flip_tta:
            row["onnx_flip_tta_ms"], row["onnx_flip_tta_cpu_ms"] = onnx_speed(
                net, args.height, args.width, args.runs, True
            )
        # an epoch: the train images once (a training step each) plus the val images once (inference, ~1/3)
        epoch_cpu_s = TRAIN_IMAGES * row["train_cpu_s_per_image"] + VAL_IMAGES * row["onnx_cpu_ms"] / 1000
        row["cpu_hours_100_epochs"] = 100 * epoch_cpu_s / 3600
        row["cpu_hours_300_epochs"] = 300 * epoch_cpu_s / 3600
        rows.append(row)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
