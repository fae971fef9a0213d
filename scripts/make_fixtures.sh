#!/usr/bin/env bash
# Rebuilds the untrained fixture model packages in tests/fixtures/models/ (used by the app's tests)
# with the bundled trainer: fixed seeds, so the output is the same on every run. The packages with a
# style encoder go to tests/fixtures/style-models/, the one with an int8 variant to tests/fixtures/int8-models/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
    echo "error: $PY not found; run scripts/setup.sh first" >&2
    exit 1
fi
PYTHONPATH=trainer "$PY" -m scenebrush_trainer.export.fixtures --out tests/fixtures/models "$@"
PYTHONPATH=trainer "$PY" -m scenebrush_trainer.evaluation.fixtures --out tests/fixtures/models "$@"
