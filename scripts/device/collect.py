"""Puts what a device run made under $OUT within the device tool's limits (at most 8 files, 16 MiB each, 64 MiB
together, plain names, no deeper than 2 folders): the generators' weights in the trainer's fine-tune format
(float16 G (its EMA weights), D and style encoder: what `export --checkpoint` reads) gzipped and split into
pieces, the segmenter's best.pt, the logs of every run (tar.gz), and the run record (record.json, written last,
with every file's size and sha256 and the command that joins the pieces).

    PYTHONPATH=trainer python3 scripts/device/collect.py --work WORK --out $OUT --gan spade ccfpse --segmenter seg
"""

import argparse
import gzip
import json
import re
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from PIL import Image

from record import sha256  # this folder: scripts are run by path, so it is on sys.path
from scenebrush_trainer.export.finetune import write_finetune_checkpoint
from scenebrush_trainer.training import checkpoint

MAX_FILES, MAX_FILE, MAX_TOTAL = 8, 16 * 2**20, 64 * 2**20
PIECE = MAX_FILE - 2**16  # a little under the limit
NAME = re.compile(r"^[A-Za-z0-9._-]+$")
LOG_SUFFIXES = {".json", ".jsonl", ".log", ".csv", ".txt"}


def split(path: Path, out: Path) -> list[str]:
    """`path` as out/NAME.part0, .part1, ... of at most PIECE bytes (`cat NAME.part* > NAME` joins them), or as
    out/NAME when it fits in one file."""
    if path.stat().st_size <= PIECE:
        shutil.copyfile(path, out / path.name)
        return [path.name]
    names = []
    with open(path, "rb") as f:
        while chunk := f.read(PIECE):
            name = f"{path.name}.part{len(names)}"
            (out / name).write_bytes(chunk)
            names.append(name)
    if len(names) > 10:
        sys.exit(f"collect: {path} needs {len(names)} pieces; the join command's glob sorts only 10")
    return names


def gan_weights(run: Path, stage: Path, out: Path) -> dict:
    ckpt = run / "checkpoint.pt"
    if not ckpt.is_file():
        return {"error": f"{ckpt} is missing: no weights from this run"}
    folder = stage / run.name
    folder.mkdir()
    finetune = write_finetune_checkpoint(checkpoint.load(ckpt), folder)  # folder/checkpoint.pt, float16
    packed = stage / f"{run.name}.pt.gz"
    with open(finetune, "rb") as src, gzip.open(packed, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst)
    pieces = split(packed, out)
    return {"pieces": pieces, "float16_bytes": finetune.stat().st_size, "gzip_bytes": packed.stat().st_size,
            "join": f"cat {run.name}.pt.gz* | gunzip > {run.name}.pt"}  # fmt: skip


def segmenter_weights(run: Path, out: Path) -> dict:
    best = run / "best.pt"
    if not best.is_file():
        return {"error": f"{best} is missing: no segmenter weights"}
    target = out / f"{run.name}-best.pt"
    shutil.copyfile(best, target)
    return {"pieces": [target.name], "bytes": target.stat().st_size}


def last_sample_as_jpeg(run: Path, stage: Path) -> Path | None:
    samples = sorted((run / "samples").glob("step_*.png"))
    if not samples:
        return None
    path = stage / f"{run.name}-{samples[-1].stem}.jpg"
    with Image.open(samples[-1]) as im:
        im.convert("RGB").save(path, "JPEG", quality=85)
    return path


def logs_archive(work: Path, stage: Path, out: Path) -> str:
    """Every run's events, scalars, logs, TensorBoard files and its last sample grid (as JPEG)."""
    path = out / "logs.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for run in sorted(p for p in work.iterdir() if p.is_dir() and not p.name.startswith("collect.")):
            for f in sorted(run.rglob("*")):
                if f.is_file() and (f.suffix in LOG_SUFFIXES or "tensorboard" in f.parts):
                    tar.add(f, arcname=f"logs/{f.relative_to(work)}")
            sample = last_sample_as_jpeg(run, stage)
            if sample:
                tar.add(sample, arcname=f"logs/{run.name}/{sample.name}")
        for f in sorted([*work.glob("*.json"), *work.glob("*.csv")]):
            tar.add(f, arcname=f"logs/{f.name}")
    return path.name


def limits(out: Path) -> list[str]:
    files = [p for p in out.rglob("*") if p.is_file()]
    problems = [f"{len(files)} files (at most {MAX_FILES})"] if len(files) > MAX_FILES else []
    problems += [f"{p.name}: {p.stat().st_size} bytes (over {MAX_FILE})" for p in files if p.stat().st_size > MAX_FILE]
    problems += [f"{p.name}: not a plain name" for p in files if not NAME.match(p.name)]
    total = sum(p.stat().st_size for p in files)
    if total > MAX_TOTAL:
        problems.append(f"{total} bytes together (at most {MAX_TOTAL})")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True, help="the folder of the run folders (and record.json)")
    p.add_argument("--out", type=Path, required=True, help="$OUT: what comes back")
    p.add_argument("--gan", nargs="*", default=[], help="run folders (names in --work) of generators")
    p.add_argument("--segmenter", nargs="*", default=[], help="run folders of segmenters")
    args = p.parse_args(argv)
    record_path = args.work / "record.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.work, prefix="collect.") as tmp:
        stage = Path(tmp)
        weights = {name: gan_weights(args.work / name, stage, args.out) for name in args.gan}
        weights |= {name: segmenter_weights(args.work / name, args.out) for name in args.segmenter}
        jobs = {}
        for name in args.gan + args.segmenter:
            timebox = args.work / name / "timebox.json"
            jobs[name] = json.loads(timebox.read_text()) if timebox.is_file() else {"error": f"{timebox} missing"}
        logs = logs_archive(args.work, stage, args.out)
    files = {f.name: {"bytes": f.stat().st_size, "sha256": sha256(f)} for f in sorted(args.out.iterdir())
             if f.is_file() and f.name not in ("record.json", "console.log")}  # fmt: skip
    record.update(jobs=jobs, weights=weights, logs=logs, files=files, collected=round(time.time(), 1))
    if "started" in record:
        record["wall_s"] = round(record["collected"] - record["started"], 1)
    problems = limits(args.out)
    record["limits"] = {
        "ok": not problems,
        "problems": problems,
        "rule": "at most 8 files of 16 MiB, 64 MiB together (console.log and record.json included)",
    }
    (args.out / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    for name, f in files.items():
        print(f"collect: {name} {f['bytes'] / 2**20:.2f} MiB", file=sys.stderr)
    for problem in problems:
        print(f"collect: OVER THE DEVICE TOOL'S LIMITS: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
