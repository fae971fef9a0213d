#!/usr/bin/env bash
# Here, after the device call of scripts/device/issue13.sh: joins the weight pieces it brought back (checked
# against record.json), exports the model packages on the CPU and checks that they load and run:
#   PACKAGES/camvid-spade-encoder, PACKAGES/camvid-ccfpse-encoder: model.onnx + encoder.onnx + model.json +
#     checkpoint.pt (float16 G and D for `train --init-from`)
#   PACKAGES/camvid-segmenter-ARCH: the segmenter package (export-segmenter of best.pt)
#   PACKAGES/weights/ (the joined checkpoints), PACKAGES/logs/ (every run's logs), PACKAGES/record.json
# Then score them by docs/evaluation.md, e.g.
#   $T evaluate --package PACKAGES/camvid-spade-encoder --segmenter PACKAGES/camvid-segmenter-ARCH --seeds 0 1
#
#   bash scripts/device/unpack.sh RESULTS PACKAGES   # RESULTS: the run tool's files_at folder
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -ne 2 ]; then
  echo "usage: scripts/device/unpack.sh RESULTS PACKAGES" >&2
  exit 2
fi
results=$1 packages=$2
py=${PYTHON:-.venv/bin/python}
export PYTHONPATH=trainer OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
T=("$py" -m scenebrush_trainer)

"$py" scripts/device/join.py "$results" "$packages/weights"
mkdir -p "$packages"
cp "$results/record.json" "$packages/record.json"
if [ -f "$results/logs.tar.gz" ]; then
  tar -xzf "$results/logs.tar.gz" -C "$packages"
fi
if [ -f "$results/console.log" ]; then
  mkdir -p "$packages/logs"
  cp "$results/console.log" "$packages/logs/console.log"
fi

made=()
for arch in spade ccfpse; do
  weights="$packages/weights/$arch.pt"
  if [ ! -f "$weights" ]; then
    echo "unpack: $weights is missing (record.json, weights.$arch, says why): no $arch package" >&2
    continue
  fi
  "${T[@]}" export --checkpoint "$weights" --out "$packages/camvid-$arch-encoder" --with-weights
  made+=("$packages/camvid-$arch-encoder")
done
seg=$(find "$packages/weights" -maxdepth 1 -name "*-best.pt" | sort | head -n 1)
if [ -z "$seg" ]; then
  echo "unpack: no segmenter checkpoint in $packages/weights: no segmenter package; checked with models/camvid-segmenter" >&2
  seg_pkg=models/camvid-segmenter
else
  arch=$("$py" -c "import sys; from scenebrush_trainer.training.checkpoint import load
print(load(sys.argv[1])['config']['architecture'])" "$seg")
  seg_pkg="$packages/camvid-segmenter-$arch"
  "${T[@]}" export-segmenter --checkpoint "$seg" --out "$seg_pkg"
fi
"$py" scripts/device/check_packages.py --segmenter "$seg_pkg" "${made[@]}"
echo "unpack: packages in $packages: ${made[*]} $seg_pkg" >&2
