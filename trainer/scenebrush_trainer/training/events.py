"""Progress events, one JSON object per line (stdout or a file), and human logs on stderr. A training run's
`start` and `step` events also go to RUN/scalars.csv (and TensorBoard when installed): see scalars.py."""

import json
import logging
import sys
import time
from pathlib import Path

from .scalars import Scalars

log = logging.getLogger("scenebrush_trainer")


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False


class Events:
    """Writes events; every object has "event" and "time" (unix seconds). Silent when disabled (DDP ranks > 0)."""

    def __init__(self, path: str | Path | None = None, enabled: bool = True):
        self.enabled = enabled
        self._file = None
        self._scalars: Scalars | None = None
        if enabled and path and str(path) != "-":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", buffering=1)  # noqa: SIM115 -- closed in close()

    def emit(self, event: str, **fields) -> None:
        if not self.enabled:
            return
        line = json.dumps({"event": event, "time": round(time.time(), 3), **fields}, default=str)
        stream = self._file or sys.stdout
        stream.write(line + "\n")
        stream.flush()
        self._record_scalars(event, fields)

    def _record_scalars(self, event: str, fields: dict) -> None:
        if event == "start" and fields.get("out"):
            if self._scalars:
                self._scalars.close()
            train = fields.get("train") or {}
            ratio = train["lr_d"] / train["lr_g"] if train.get("lr_g") and train.get("lr_d") else 1.0
            self._scalars = Scalars(Path(fields["out"]), int(fields.get("step") or 0), ratio)
        elif event == "step" and self._scalars:
            self._scalars.add(fields["step"], fields.get("epoch"), fields.get("losses") or {},
                              fields.get("images_per_s"), fields.get("lr_g"))  # fmt: skip
        elif event in ("stopped", "finished", "error") and self._scalars:
            self._scalars.close()
            self._scalars = None

    def close(self) -> None:
        if self._scalars:
            self._scalars.close()
            self._scalars = None
        if self._file:
            self._file.close()
            self._file = None
