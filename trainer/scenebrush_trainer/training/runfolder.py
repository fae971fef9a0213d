"""A run folder belongs to one trainer at a time: an exclusive lock, and the clean-up of what killed runs left."""

import contextlib
import fcntl
import os
from pathlib import Path

from ..fileio import remove_stale_temp_files
from .events import log

LOCK_NAME = ".trainer.lock"
# the files the trainer writes through atomic_path, per sub-folder of the run folder
TEMP_TARGETS = {".": r"checkpoint\.pt", "samples": r"step_\d+\.png"}


class RunFolderBusy(RuntimeError):
    pass


class RunLock:
    """flock on RUN/.trainer.lock, holding the owner's PID. The kernel releases it when the process exits
    or is killed, so a kill never leaves a stale lock; the file itself stays (deleting it would race)."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out / LOCK_NAME
        self._file = None
        self._created = False

    def __enter__(self):
        self._created = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")  # noqa: SIM115 -- held until __exit__; "a+" keeps the holder's PID
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "unknown"
            f.close()
            raise RunFolderBusy(
                f"{self.out} is in use by another trainer (PID {holder}); wait for it to finish, stop it "
                f"(SIGTERM writes a checkpoint), or use another --out"
            ) from None
        f.truncate(0)
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return self

    def __exit__(self, exc_type, *_):
        # a start that failed in a folder it created (e.g. --resume of a typo) leaves no empty folder behind
        if exc_type is not None and self._created:
            with contextlib.suppress(OSError):  # gone or no longer empty: leave it
                if [p.name for p in self.out.iterdir()] == [LOCK_NAME]:
                    self.path.unlink()
                    self.out.rmdir()
        self._file.close()  # releases the lock
        self._file = None


def remove_stale_temp_files_of_run(out: Path) -> list[Path]:
    """Temporary files of checkpoint and sample writes that a killed trainer left. Call it holding RunLock:
    then no live trainer can be writing them."""
    removed = [p for sub, names in TEMP_TARGETS.items() for p in remove_stale_temp_files(Path(out) / sub, names)]
    for p in removed:
        log.info("removed %s, left by an interrupted run", p)
    return removed
