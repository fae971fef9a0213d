#!/usr/bin/env bash
# Turns the CamVid training runs into the packages shipped in models/: exports (the default model
# with its fine-tuning weights; CC-FPSE without, to keep the repository smaller: `recover-weights`
# rebuilds them from its model.onnx), scores each generator with `evaluate` on CamVid val, and draws
# the sample grids (one seed; several seeds per layout).
# The runs themselves come from the commands in models/*/README.md (hours of CPU, not part of setup).
set -euo pipefail
cd "$(dirname "$0")/.."
T=(env PYTHONPATH=trainer .venv/bin/python -m scenebrush_trainer)
runs=${RUNS:-runs}

if [ -f "$runs/segmenter-enet/best.pt" ]; then
  "${T[@]}" export-segmenter --checkpoint "$runs/segmenter-enet/best.pt" --out models/camvid-segmenter
fi
for arch in spade ccfpse; do
  # CC-FPSE keeps running batch-norm statistics: measured on its phase-3 weights (40 val layouts x 2 seeds),
  # per-image statistics gave mIoU 0.340 against 0.374 and over-bright skies; SPADE gains from them (auto).
  if [ "$arch" = spade ]; then name=SPADE; opts=(--with-weights); else name=CC-FPSE; opts=(--norm running); fi
  "${T[@]}" export --checkpoint "$runs/camvid-$arch-ms" --out "models/camvid-$arch" --id "camvid-$arch" \
    --name "$name (CamVid, 192x256)" "${opts[@]}"
  "${T[@]}" evaluate --package "models/camvid-$arch" --seeds 0 1 --threads "${THREADS:-2}"
done
"${T[@]}" samples --packages models/camvid-spade models/camvid-ccfpse --count 8 --seeds 0 \
  --out docs/samples/camvid-val.png
"${T[@]}" samples --packages models/camvid-spade models/camvid-ccfpse --count 4 --seeds 0 1 2 \
  --out docs/samples/camvid-styles.png
