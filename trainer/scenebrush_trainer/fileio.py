"""Atomic file writes (a temp file in the target's folder, then rename: readers never see half a file),
staging folders for packages, and the clean-up of what a killed process left of either."""

import fcntl
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

# mkstemp/mkdtemp add 8 characters from this alphabet between prefix and suffix
_RANDOM = r"[a-z0-9_]{8}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path):
    """Yields a temporary path beside `path` (`.NAME.XXXXXXXX.tmp`); on success it replaces `path`, on error
    it is removed. A killed process leaves the temporary file: see remove_stale_temp_files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def temp_name_pattern(name_regex: str) -> re.Pattern:
    """Names atomic_path gives the temporary files of targets whose names match `name_regex`."""
    return re.compile(rf"^\.(?:{name_regex})\.{_RANDOM}\.tmp$")


def remove_stale_temp_files(folder: Path, name_regex: str) -> list[Path]:
    """Removes atomic_path's leftovers for targets matching `name_regex` in `folder`. Only call it while no
    live process can be writing them (e.g. under the run folder's lock): a live writer's file looks the same."""
    pattern = temp_name_pattern(name_regex)
    folder = Path(folder)
    removed = []
    if folder.is_dir():
        for p in folder.iterdir():
            if pattern.match(p.name) and p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


LEGACY_STAGED = re.compile(
    r"^(model\.onnx|encoder\.onnx|README\.md|model\.json)$|^\.(model\.onnx|encoder\.onnx|model\.json)\."
)


def remove_stale_staging(out: Path) -> list[Path]:
    """Removes the staging folders that interrupted exports to `out` left beside it (`.NAME.XXXXXXXX.staging`).
    A live export holds a lock on its staging folder, so a concurrent export's folder is left alone."""
    out = Path(out)
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.{_RANDOM}(\.staging)?$")
    removed = []
    if not out.parent.is_dir():
        return removed
    for p in out.parent.iterdir():
        if not (m := pattern.match(p.name)) or p.is_symlink() or not p.is_dir():
            continue
        # before the .staging suffix, staging folders had no suffix and no lock: only take such a folder
        # when it holds nothing but what an export writes
        if not m.group(1) and not all(LEGACY_STAGED.match(f.name) for f in p.iterdir()):
            continue
        fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _try_lock(fd):  # nobody holds it: its export died
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        finally:
            os.close(fd)
    return removed


@contextmanager
def staging_folder(out: Path):
    """A new, locked staging folder beside `out` (after removing stale ones); removed afterwards. The lock
    (flock on the folder itself) is released by the kernel when the process dies, so the next export to `out`
    knows the folder is stale."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    # made under a name no clean-up takes, locked, then renamed: another export never sees it unlocked
    new = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".new", dir=out.parent))
    fd = os.open(new, os.O_RDONLY | os.O_DIRECTORY)
    stage = new.with_suffix(".staging")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a new folder: nobody else can hold it yet
        os.rename(new, stage)  # the lock belongs to the folder, not its name
        yield stage
    finally:
        shutil.rmtree(stage if stage.exists() else new, ignore_errors=True)
        os.close(fd)
