"""Joins what collect.py split: checks every file of a device run's results against the sha256 in its
record.json, then writes each generator's float16 checkpoint (its pieces joined and un-gzipped) and the
segmenter's best.pt into DEST.

    python3 scripts/device/join.py RESULTS DEST     # RESULTS: the folder the device tool copied $OUT into
"""

import gzip
import json
import shutil
import sys
from pathlib import Path

from record import sha256  # this folder: scripts are run by path, so it is on sys.path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit("join: usage: join.py RESULTS DEST")
    results, dest = Path(argv[0]), Path(argv[1])
    record_path = results / "record.json"
    if not record_path.is_file():
        sys.exit(f"join: {record_path} is missing: not the results of scripts/device/issue13.sh (or cut short)")
    record = json.loads(record_path.read_text())
    if "files" not in record:
        sys.exit(f"join: {record_path} lists no files: collect.py did not run (see console.log beside it)")
    for name, want in record["files"].items():
        path = results / name
        if not path.is_file():
            sys.exit(f"join: {path} is missing (the device tool's files_left_out says why)")
        if sha256(path) != want["sha256"]:
            sys.exit(f"join: {path} differs from the sha256 in {record_path}: copied incompletely?")
    dest.mkdir(parents=True, exist_ok=True)
    for name, weights in record["weights"].items():
        if "error" in weights:
            print(f"join: {name}: {weights['error']}", file=sys.stderr)
            continue
        pieces = [results / p for p in weights["pieces"]]
        target = dest / (f"{name}.pt" if "join" in weights else pieces[0].name)
        if "join" in weights:  # gzipped pieces of a generator's float16 checkpoint
            packed = dest / f".{name}.pt.gz"
            with open(packed, "wb") as out:
                for piece in pieces:
                    with open(piece, "rb") as f:
                        shutil.copyfileobj(f, out)
            with gzip.open(packed, "rb") as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            packed.unlink()
        else:
            shutil.copyfile(pieces[0], target)
        print(f"join: {target} ({target.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
