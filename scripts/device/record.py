"""Starts the run record: the environment (check_env.py's JSON) and the run's settings (KEY=VALUE words;
numbers stay numbers), written as one JSON object to PATH. collect.py adds the jobs and files to it (with
sha256 from here; join.py checks them with it).

    python3 scripts/device/record.py PATH ENV_JSON KEY=VALUE ...
"""

import hashlib
import json
import sys
from pathlib import Path

JPEG_NOTE = (
    "the photos were packed as JPEG (scripts/device/pack_camvid.py) and differ slightly from CamVid's PNGs: "
    "environment.data.splits gives the mean absolute difference per channel on the 0-255 scale; label maps unchanged"
)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not all("=" in a for a in argv[2:]):
        sys.exit("record: usage: record.py PATH ENV_JSON KEY=VALUE ...")
    path, env, pairs = argv[0], json.loads(argv[1]), argv[2:]
    settings = {k: value(v) for k, v in (a.split("=", 1) for a in pairs)}
    with open(path, "w") as f:
        f.write(json.dumps({**settings, "environment": env, "jpeg_note": JPEG_NOTE}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
