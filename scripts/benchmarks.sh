#!/usr/bin/env bash
# Every figure of docs/benchmarks.md's "Before and after" table in one run, so that the alternatives
# share the machine's state: inference and stroke-to-image per shipped model (float, and int8 when
# a package lists a variant), start-up to the first image, training images/s per generator; each at
# 2 threads and at 1 (taskset: ONNX Runtime and the app take their thread count from the CPUs they
# may use). Raw outputs go to OUT; nothing is written elsewhere.
#
#   scripts/benchmarks.sh OUT [--models-dir DIR]...   (after scripts/setup.sh; 4 minutes on 2 idle cores, 2026-12-01)
#
# Extra --models-dir folders are measured beside models/ (e.g. a copy of a package with an int8
# variant that did not ship). Training with --compile is not in this script: compiling alone takes
# 10 minutes or more on 2 cores; see trainer/benchmarks/compile_speed.py.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: scripts/benchmarks.sh OUT [--models-dir DIR]...}
shift
dirs=(--models-dir models "$@")
mkdir -p "$out"
python=.venv/bin/python
[ -x "$python" ] || { echo "no .venv: run scripts/setup.sh first" >&2; exit 1; }

cargo bench --bench inference --bench ui_frames --no-run 2>"$out/build.log"
{
    date -u +"%F %T UTC"
    grep -m1 "model name" /proc/cpuinfo
    echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    git rev-parse --short HEAD
} >"$out/machine.txt"

for threads in 2 1; do
    cpus=$([ "$threads" = 2 ] && echo 0-1 || echo 0)
    echo "== $threads thread(s)" >&2
    taskset -c "$cpus" cargo bench --bench inference -- "${dirs[@]}" --runs 20 >"$out/inference-${threads}t.txt"
    taskset -c "$cpus" cargo bench --bench ui_frames -- "${dirs[@]}" --seconds 5 --starts 3 >"$out/ui-${threads}t.txt"
    taskset -c "$cpus" env PYTHONPATH=trainer "$python" trainer/benchmarks/train_speed.py --preset small \
        --generator spade spade:clade:style ccfpse ccfpse:light --discriminator fpse --amp off bf16 --steps 3 --threads "$threads" \
        >"$out/train-${threads}t.txt"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
echo "results in $out" >&2
