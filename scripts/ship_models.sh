#!/usr/bin/env bash
# Turns the CamVid training runs into the packages shipped in models/: exports (with fine-tuning
# weights), scores each generator with `evaluate` on CamVid val, and draws the sample grid.
# The runs themselves come from the commands in models/*/README.md (hours of CPU, not part of setup).
set -euo pipefail
cd "$(dirname "$0")/.."
T=(env PYTHONPATH=trainer .venv/bin/python -m scenebrush_trainer)
runs=${RUNS:-runs}

"${T[@]}" export-segmenter --checkpoint "$runs/segmenter-enet/best.pt" --out models/camvid-segmenter
for arch in spade ccfpse; do
  name=$([ "$arch" = spade ] && echo "SPADE" || echo "CC-FPSE")
  "${T[@]}" export --checkpoint "$runs/camvid-$arch" --out "models/camvid-$arch" --id "camvid-$arch" \
    --name "$name (CamVid, 192x256)" --with-weights
  "${T[@]}" evaluate --package "models/camvid-$arch" --seeds 0 1 --threads "${THREADS:-2}"
done
"${T[@]}" samples --packages models/camvid-spade models/camvid-ccfpse --count 8 --seed 0 \
  --out docs/samples/camvid-val.png
