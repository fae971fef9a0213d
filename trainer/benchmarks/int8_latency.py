"""Benchmark: onnxruntime latency of a package's model.onnx against its int8 variant (model-int8.onnx), batch 1,
interleaved run by run so that load from other jobs hits both alike; median milliseconds per thread count.

PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/int8_latency.py models/camvid-spade --threads 1 2 --runs 20
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from scenebrush_trainer.evaluation.evaluate import z_for
from scenebrush_trainer.evaluation.variant import latency
from scenebrush_trainer.export.quantize import INT8_FILE


def session(path: Path, threads: int):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("package", type=Path)
    p.add_argument("--int8", type=Path, help=f"the int8 graph (default PACKAGE/{INT8_FILE})")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    meta = json.loads((args.package / "model.json").read_text())
    h, w, z_dim = meta["height"], meta["width"], int(meta.get("z_dim") or 0)
    label = np.zeros((1, h, w), np.int64)  # a street-like layout: sky, buildings, road, a car
    label[:, h // 3 :] = 1
    label[:, 2 * h // 3 :] = 3
    label[:, h // 2 : 3 * h // 4, w // 5 : w // 2] = 8
    feed = {"label": label}
    if z_dim:
        feed["z"] = z_for(0, 0, z_dim)[None]
    for threads in args.threads:
        sessions = {"float": session(args.package / "model.onnx", threads),
                    "int8": session(args.int8 or args.package / INT8_FILE, threads)}  # fmt: skip
        ms = latency(sessions, feed, args.runs)
        print(json.dumps({"package": str(args.package), "threads": threads, "runs": args.runs, **ms,
                          "speedup": round(ms["float_ms"] / ms["int8_ms"], 2),
                          "load_average": [round(x, 2) for x in os.getloadavg()]}))  # fmt: skip


if __name__ == "__main__":
    main()
