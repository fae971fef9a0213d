#!/usr/bin/env bash
# Sets up everything SceneBrush needs on a Debian/Ubuntu machine: system libraries for the
# window and headless rendering, the trainer's Python environment (.venv) and the ONNX Runtime
# library the app loads (runtime/). Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# System packages: Vulkan software rasteriser (headless GUI tests, machines without a GPU),
# Xvfb (screenshots), zenity (file dialogs where no desktop portal runs).
need=()
for pkg in libvulkan1 mesa-vulkan-drivers xvfb xauth zenity libxkbcommon-x11-0 imagemagick x11-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  if ! command -v apt-get >/dev/null; then
    log "not a Debian-like system: install these yourself: ${need[*]}"
  else
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing system packages: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# Python environment of the bundled trainer (PyTorch, ONNX Runtime, ...), pinned.
req=trainer/requirements.txt
stamp=.venv/.requirements.sha256
for f in "$req" trainer/requirements-nodeps.txt trainer/pyproject.toml; do
  [ -f "$f" ] || { log "missing $f: this checkout is incomplete (git status / git pull)"; exit 1; }
done
want=$(cat "$req" trainer/requirements-nodeps.txt trainer/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating .venv (downloads PyTorch, about 3 GB, a few minutes)"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$req"
  .venv/bin/python -m pip install -q --no-deps -r trainer/requirements-nodeps.txt
  .venv/bin/python -m pip install -q --no-deps -e trainer
  echo "$want" >"$stamp"
fi

# ONNX Runtime for the app: the official library from the onnxruntime wheel, loaded by `ort`.
lib=$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n1 || true)
if [ -z "$lib" ]; then
  log "onnxruntime's library is missing from .venv; delete .venv and run scripts/setup.sh again"
  exit 1
fi
mkdir -p runtime
if ! cmp -s "$lib" "runtime/$(basename "$lib")"; then
  cp "$lib" runtime/
  ln -sf "$(basename "$lib")" runtime/libonnxruntime.so
  log "ONNX Runtime library placed in runtime/$(basename "$lib")"
fi
log "ready"
