#!/usr/bin/env bash
# Turns the CamVid training runs into the packages shipped in models/: exports each package whose run this
# machine holds (the default model and camvid-clade with their fine-tuning weights; CC-FPSE without, to keep
# the repository smaller: `recover-weights` rebuilds them from its model.onnx), scores every shipped generator
# with `evaluate` on CamVid val in this one run (the same ruler for old and new), and draws the sample grids.
# The runs themselves come from the commands in models/*/README.md (hours of CPU, not part of setup).
set -euo pipefail
cd "$(dirname "$0")/.."
T=(env PYTHONPATH=trainer .venv/bin/python -m scenebrush_trainer)
runs=${RUNS:-runs}

ship() { # RUN ID NAME [export options]: models/ID from RUN's checkpoint, when this machine has the run
  local run=$1 id=$2 name=$3
  shift 3
  if [ -f "$run/checkpoint.pt" ]; then
    "${T[@]}" export --checkpoint "$run" --out "models/$id" --id "$id" --name "$name" "$@"
  else
    echo "ship_models: $run/checkpoint.pt not here: models/$id kept as it is" >&2
  fi
}

if [ -f "$runs/segmenter-enet/best.pt" ]; then
  "${T[@]}" export-segmenter --checkpoint "$runs/segmenter-enet/best.pt" --out models/camvid-segmenter
fi
# CC-FPSE keeps running batch-norm statistics: measured on its phase-3 weights (40 val layouts x 2 seeds),
# per-image statistics gave mIoU 0.340 against 0.374 and over-bright skies; SPADE gains from them (auto).
ship "$runs/camvid-spade-ms" camvid-spade "SPADE (CamVid, 192x256)" --with-weights
ship "$runs/camvid-ccfpse-ms" camvid-ccfpse "CC-FPSE (CamVid, 192x256)" --norm running
ship "$runs/long/clade3-style-192x256" camvid-clade "SPADE-CLADE with style encoder (CamVid, 192x256)" --with-weights
packages=(models/camvid-clade models/camvid-spade models/camvid-ccfpse)
for pkg in "${packages[@]}"; do
  "${T[@]}" evaluate --package "$pkg" --seeds 0 1 --threads "${THREADS:-2}"
done
"${T[@]}" samples --packages "${packages[@]}" --count 8 --seeds 0 --out docs/samples/camvid-val.png
"${T[@]}" samples --packages "${packages[@]}" --count 4 --seeds 0 1 2 --out docs/samples/camvid-styles.png
