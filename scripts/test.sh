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
step "ruff (trainer)"
.venv/bin/ruff check trainer
.venv/bin/ruff format --check trainer
step "pytest (trainer)"
.venv/bin/python -m pytest trainer/tests -q
