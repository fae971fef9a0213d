"""What a device call would send, against the device tool's 64 MiB: the checkout's tracked and untracked,
not ignored files (those present), shared/ if there is one, and the carried paths; the largest first when over.

    python3 scripts/device/travel_size.py device-data/camvid     # the paths the call will carry
"""

import subprocess
import sys
from pathlib import Path

LIMIT = 64 * 2**20
REPO = Path(__file__).resolve().parents[2]


def sizes(paths) -> dict[str, int]:
    out = {}
    for p in paths:
        path = REPO / p
        if path.is_file():
            out[str(p)] = path.stat().st_size
        elif path.is_dir():
            out |= {str(f.relative_to(REPO)): f.stat().st_size for f in path.rglob("*") if f.is_file()}
    return out


def main(carry: list[str]) -> int:
    listed = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout.split("\0")  # fmt: skip
    tree = sizes([p for p in listed if p] + (["shared"] if (REPO / "shared").is_dir() else []))
    carried = sizes(carry)
    for p in carry:
        if not (REPO / p).exists():
            print(f"travel_size: {p} does not exist here (a carried path that is missing is removed there)")
    total = sum(tree.values()) + sum(carried.values())
    print(f"working tree {sum(tree.values()) / 2**20:.1f} MiB + carried {sum(carried.values()) / 2**20:.1f} MiB "
          f"= {total / 2**20:.1f} MiB (limit {LIMIT / 2**20:.0f} MiB)")  # fmt: skip
    if total <= LIMIT:
        return 0
    print("over the limit; the largest files that would travel:")
    for path, size in sorted({**tree, **carried}.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {size / 2**20:6.1f} MiB  {path}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
