"""flock-based locks for work shared by several processes (study runners, scorers). The kernel releases a lock
when its process ends, however it ends, so a killed process never leaves a stale lock; the files stay."""

import contextlib
import fcntl
import os
from pathlib import Path


class Held:
    """Truthy when the lock was taken; else `holder` says who has it (the PID it wrote)."""

    def __init__(self, ok: bool, holder: str = ""):
        self.ok, self.holder = ok, holder

    def __bool__(self) -> bool:
        return self.ok


@contextlib.contextmanager
def try_lock(path: Path):
    """Non-blocking: yields Held(True) holding the lock, or Held(False, holder) at once when another process has
    it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            yield Held(False, f"PID {f.read().strip() or 'unknown'}")
            return
        f.truncate(0)
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield Held(True)
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def wait_lock(path: Path):
    """Blocking: for short critical sections (rewriting a shared summary file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
