#!/usr/bin/env bash
# Runs every check and test of the project: Rust (format, lints, unit, integration, GUI and CLI
# tests) and the Python trainer (lint, tests). Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
step "cargo test"
cargo test --locked --all-targets
step "ruff (trainer, scripts/device)"
.venv/bin/ruff check trainer scripts/device
.venv/bin/ruff format --check trainer scripts/device
step "pytest (trainer)"
.venv/bin/python -m pytest trainer/tests -q

# Tests on the shared datasets check nothing without them: say so rather than look green.
missing() {
  [ -d "$1" ] || echo "NOTE: $1 is missing, so $2 was skipped; set $3 to its folder to run it." >&2
}
missing "${SCENEBRUSH_CAMVID:-../shared/data/camvid}" "the shipped segmenter's test on CamVid val" SCENEBRUSH_CAMVID
missing "${SCENEBRUSH_COCO_STUFF:-../shared/data/coco_stuff_samples}" "the COCO-Stuff preset test" \
  SCENEBRUSH_COCO_STUFF
