"""Progress events, one JSON object per line (stdout or a file), and human logs on stderr."""

import json
import logging
import sys
import time
from pathlib import Path

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

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None
