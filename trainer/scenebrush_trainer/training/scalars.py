"""A run's scalars where PyTorch users look for them: RUN/scalars.csv always, and TensorBoard event files in
RUN/tensorboard/ when the optional `tensorboard` package is installed.

Fed from the loop's `start` and `step` events. A resumed run starts at its checkpoint's step: rows after it
(steps a killed run made but did not checkpoint, and will make again) are dropped first, so no step is written
twice."""

import csv
import io
import logging
from pathlib import Path

from ..fileio import atomic_path

log = logging.getLogger("scenebrush_trainer")  # events.py's logger (it imports this module)

NAME = "scalars.csv"
TENSORBOARD = "tensorboard"
_tensorboard_note_logged = False


def summary_writer_class():
    """torch's SummaryWriter, or None (logged once per process) when `tensorboard` is not installed."""
    global _tensorboard_note_logged
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch.utils.tensorboard raises it when the tensorboard package is missing
        if not _tensorboard_note_logged:
            log.info("TensorBoard event files: skipped (optional: pip install tensorboard); scalars.csv is written")
            _tensorboard_note_logged = True
        return None
    return SummaryWriter


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    """Header and complete rows; a last line cut off by a kill is left out."""
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    reader = csv.DictReader(io.StringIO("".join(lines)))
    header = list(reader.fieldnames or [])
    rows = [r for r in reader if None not in r and all(v is not None for v in r.values())]
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, header, restval="")
        writer.writeheader()
        writer.writerows(rows)


class Scalars:
    """One row per step event: step, epoch, each loss, images/s, learning rates."""

    def __init__(self, out: Path, start_step: int, lr_ratio: float):
        self.path = Path(out) / NAME
        self.lr_ratio = lr_ratio  # lr_d / lr_g: both follow the same schedule
        self.header: list[str] = []
        if self.path.exists():
            header, rows = read_rows(self.path)
            kept = [r for r in rows if r.get("step", "").isdigit() and int(r["step"]) <= start_step]
            if header and (len(kept) != len(rows) or not self.path.read_text().endswith("\n")):
                write_rows(self.path, header, kept)
            self.header = header
        self._file = None
        writer_class = summary_writer_class()
        # purge_step: TensorBoard hides what an earlier process wrote at or after it
        self.tb = writer_class(str(Path(out) / TENSORBOARD), purge_step=start_step + 1) if writer_class else None

    def add(self, step: int, epoch: float, losses: dict, images_per_s: float, lr_g: float) -> None:
        row = {"step": step, "epoch": epoch, **losses, "images_per_s": images_per_s, "lr_g": lr_g,
               "lr_d": lr_g * self.lr_ratio}  # fmt: skip
        if self.header and list(row) != self.header:
            # another set of losses than the file has (not within one run's configuration): widen the file
            header, rows = read_rows(self.path)
            self.close_file()
            self.header = list(dict.fromkeys([*header, *row]))
            write_rows(self.path, self.header, rows)
        if self._file is None:
            new = not self.path.exists() or not self.header
            self.header = self.header or list(row)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", newline="", buffering=1)  # noqa: SIM115 -- closed in close()
            self._writer = csv.DictWriter(self._file, self.header, restval="")
            if new:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()
        if self.tb is not None:
            for key, value in losses.items():
                self.tb.add_scalar(f"loss/{key}", value, step)
            self.tb.add_scalar("images_per_s", images_per_s, step)
            self.tb.add_scalar("lr/g", lr_g, step)
            self.tb.add_scalar("lr/d", lr_g * self.lr_ratio, step)

    def close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        self.close_file()
        if self.tb is not None:
            self.tb.close()
            self.tb = None
