#!/usr/bin/env bash
# Takes docs/screenshot.png: starts the real app under Xvfb (Vulkan through Mesa's lavapipe, so
# no GPU is needed), with an example layout and two models side by side in the compare view,
# waits for the images and grabs the screen.
#
#   scripts/screenshot.sh [OUT.png] [LAYOUT.png]
#
# Needs xvfb (xvfb-run), mesa-vulkan-drivers and imagemagick (import, convert), which
# scripts/setup.sh installs, and x11-utils (xwininfo) to grab just the window (else the screen). Models: those found by `scenebrush models` (models/, the per-user folder,
# $SCENEBRUSH_MODELS); with fewer than two available, the test fixture packages. Override with
# SCREENSHOT_MODELS_DIR=DIR and SCREENSHOT_COMPARE=ID,ID, or SCREENSHOT_COMPARE=none for the paint
# view of the default model. SCREENSHOT_ARGS adds arguments to the app's command line (say
# "--style-photo PHOTO" or "--edit-photo PHOTO"). SCREENSHOT_WAIT (seconds, default 25) is how long
# the app gets to load the models and render before the grab.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/screenshot.png}
layout=${2:-assets/layouts/city_street.png}
wait_s=${SCREENSHOT_WAIT:-25}
size=1600x1000

for tool in xvfb-run import convert; do
  command -v "$tool" >/dev/null || {
    echo "screenshot.sh: $tool is missing; run scripts/setup.sh (packages xvfb, imagemagick)" >&2
    exit 1
  }
done
[ -f "$layout" ] || { echo "screenshot.sh: layout $layout not found" >&2; exit 1; }

# The dev profile optimises dependencies (ONNX glue, egui, image codecs): quick to build, fast enough.
cargo build --quiet
bin=target/debug/scenebrush

models_args=()
if [ -n "${SCREENSHOT_MODELS_DIR:-}" ]; then
  models_args=(--models-dir "$SCREENSHOT_MODELS_DIR")
fi
# The available generators, in listing order.
available() {
  "$bin" "${models_args[@]}" models 2>/dev/null |
    awk '$0 ~ / generator / && $NF == "available" { print $1 }'
}
ids=$(available)
if [ -z "${SCREENSHOT_MODELS_DIR:-}" ] && [ "$(printf '%s\n' "$ids" | grep -c .)" -lt 2 ]; then
  models_args=(--models-dir tests/fixtures/models)
  ids=$(available)
fi
compare=${SCREENSHOT_COMPARE:-$(printf '%s\n' "$ids" | head -n 2 | paste -sd, -)}
if [ "$compare" = none ]; then
  compare=
  echo "screenshot.sh: the paint view on $layout" >&2
elif [ "$(printf '%s' "$compare" | tr ',' '\n' | grep -c .)" -lt 2 ]; then
  echo "screenshot.sh: need two available generator models, found: ${ids:-none}" >&2
  exit 1
else
  echo "screenshot.sh: comparing $compare on $layout" >&2
fi
read -r -a extra_args <<<"${SCREENSHOT_ARGS:-}"
models_args+=("${extra_args[@]}")

# A fresh settings folder, so the last session's view and window size do not leak in.
settings=$(mktemp -d)
trap 'rm -rf "$settings"' EXIT
mkdir -p "$(dirname "$out")"

export WGPU_BACKEND=vulkan
export XDG_DATA_HOME="$settings/data" XDG_CONFIG_HOME="$settings/config"
if [ -n "$compare" ]; then export SCENEBRUSH_COMPARE="$compare"; fi
xvfb-run -a -s "-screen 0 ${size}x24" bash -c '
  "$0" "${@:4}" --labels "$1" &
  app=$!
  sleep "$2"
  # No window manager runs under Xvfb: find the app window by its title and grab it.
  win=$(command -v xwininfo >/dev/null && xwininfo -root -tree | awk "/\"SceneBrush\"/ { print \$1; exit }" || true)
  if [ -n "$win" ]; then import -window "$win" "$3.raw.png"; else import -window root "$3.raw.png"; fi
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
' "$bin" "$layout" "$wait_s" "$out" "${models_args[@]}"
convert "$out.raw.png" -strip "$out"
rm -f "$out.raw.png"
echo "screenshot.sh: wrote $out" >&2
