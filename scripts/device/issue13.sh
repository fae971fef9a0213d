#!/usr/bin/env bash
# Issue 13 on one lent GPU, in about 8 minutes: SPADE (with style norms) and CC-FPSE (`small`, z 256, VAE style
# encoder, FPSE, L1 20: the shipped recipe without the mode-seeking term, which the encoder excludes), and with
# SEGMENTER=1 the FC-DenseNet56 segmenter, trained side by side on the one GPU, each for as long as fits
# (scripts/device/timebox.py: a probe measures its speed, the run then goes on with the steps or epochs that end
# it, annealed, before the guard);
# then scripts/device/collect.py puts the weights, logs and run record under $OUT within the tool's limits.
# scripts/device/unpack.sh turns them into packages here. trainer/README.md, "A lent GPU", has the device call.
#
#   OUT=... bash scripts/device/issue13.sh            # on the device machine (GPU, device-data/camvid carried)
#   bash scripts/device/issue13.sh --smoke             # here, on the CPU: a few steps, into runs/device-smoke/
#
# Settings (environment): BUDGET_S (the whole script's wall time: 480 on the GPU), GAN_BATCH, AMP, EMA,
# SEG_ARCH, SEG_WIDTH, SEG_BATCH, PRESET, THREADS, DATA, WORK, STYLE_NORMS (1: SPADE with --style-norms),
# LIGHT_PREDICTORS (1: CC-FPSE with --light-predictors, the form that can follow the brush in the app),
# SEGMENTER (1: train the segmenter too; off since the ruler is met); see the defaults below.
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$(date +%s)

smoke=${SMOKE:-0}
[ "${1:-}" = --smoke ] && smoke=1
if [ "$smoke" = 1 ]; then
  # the CPU of the machine that prepares the call: one thread a job, a CamVid subset, a few steps
  : "${OUT:=runs/device-smoke/out}" "${WORK:=runs/device-smoke/work}" "${DATA:=device-data/camvid-smoke}"
  : "${PYTHON:=.venv/bin/python}" "${DEVICE:=cpu}" "${THREADS:=1}" "${BUDGET_S:=300}" "${GAN_BATCH:=1}"
  : "${AMP:=off}" "${PROBE_STEPS:=3}" "${LOG_EVERY:=1}" "${SEG_WIDTH:=0.25}" "${SEG_PROBE:=1}" "${SEG_GUESS:=6}"
  : "${SAMPLE_EVERY:=4}" "${EMA:=0.995}"
  export OMP_NUM_THREADS=1
else
  : "${OUT:?OUT must name the folder whose files come back (the device tool sets it)}"
  : "${WORK:=runs/issue13}" "${DATA:=device-data/camvid}" "${PYTHON:=python3}" "${DEVICE:=cuda}" "${THREADS:=4}"
  : "${BUDGET_S:=480}" "${GAN_BATCH:=32}" "${AMP:=bf16}" "${PROBE_STEPS:=40}" "${LOG_EVERY:=10}"
  : "${SEG_WIDTH:=1.0}" "${SEG_PROBE:=2}" "${SEG_GUESS:=120}" "${SAMPLE_EVERY:=500}"
  # an EMA horizon of ~100 steps (3200 images at batch 32; the shipped models': 1000 images) leaves under 1 % of
  # the initial weights in the exported ones even if only ~500 steps fit
  : "${EMA:=0.99}"
fi
: "${PRESET:=small}" "${SEG_ARCH:=fcdensenet56}" "${SEG_BATCH:=8}" "${STYLE_NORMS:=1}" "${LIGHT_PREDICTORS:=1}"
# The ruler (models/camvid-segmenter, val mIoU 0.61) is met: by default the generators get the GPU to themselves.
: "${SEGMENTER:=0}"
export PYTHONPATH=trainer PYTHONUNBUFFERED=1

if [ -e "$WORK" ]; then
  echo "issue13: $WORK exists (an earlier run?); remove it or set WORK to a new folder" >&2
  exit 2
fi
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/console.log") 2>&1
echo "issue13: started $(date -u +%FT%TZ), budget ${BUDGET_S}s, smoke=$smoke, device=$DEVICE, data=$DATA"

if [ "$smoke" = 1 ] && [ ! -d "$DATA" ]; then
  "$PYTHON" scripts/device/pack_camvid.py --max-images 4 --out "$DATA"
fi
# packages, GPU and data first: a missing one fails here, in seconds, naming it
env_json=$("$PYTHON" scripts/device/check_env.py --device "$DEVICE" --data "$DATA")
echo "issue13: environment $env_json"

# the jobs' clock: train until `end`, SIGTERM at `guard` (checkpoint after the step), SIGKILL 20 s later,
# then at most ~40 s to collect
guard=$((t0 + BUDGET_S - 60))
end=$((guard - 15))
extra=()
[ "$DEVICE" = cuda ] && extra=(--channels-last)
gan_recipe() { # $1: generator; SPADE with style norms (a style that carries light and colour: trainer/README.md),
  # CC-FPSE with light predictors (trainer/README.md, "Cheaper CC-FPSE")
  local norms=
  [ "$1" = spade ] && [ "$STYLE_NORMS" = 1 ] && norms=--style-norms
  [ "$1" = ccfpse ] && [ "$LIGHT_PREDICTORS" = 1 ] && norms=--light-predictors
  echo --data "$DATA" --preset "$PRESET" --generator "$1" $norms --discriminator fpse --encoder --z-dim 256 \
    --lambda-l1 20 --lambda-feat 10 --ema "$EMA" --seed 1 --batch-size "$GAN_BATCH" --amp "$AMP" \
    --checkpoint-every 200 --sample-every "$SAMPLE_EVERY" --log-every "$LOG_EVERY" "${extra[@]}"
}
seg_recipe=(--data "$DATA" --architecture "$SEG_ARCH" --width-mult "$SEG_WIDTH" --batch-size "$SEG_BATCH" --seed 0)
# the last resort, should a job outlive its own guard and SIGKILL: `timeout` ends it, and collect.py takes
# what there is
timebox=(timeout -s KILL $((guard + 40 - $(date +%s))) "$PYTHON" scripts/device/timebox.py --end "$end"
  --guard "$guard" --device "$DEVICE" --threads "$THREADS")

"$PYTHON" scripts/device/record.py "$WORK/record.json" "$env_json" issue=13 smoke="$smoke" started="$t0" \
  budget_s="$BUDGET_S" end="$end" guard="$guard" device="$DEVICE" preset="$PRESET" gan_batch="$GAN_BATCH" \
  amp="$AMP" ema="$EMA" seg_arch="$SEG_ARCH" seg_width="$SEG_WIDTH" seg_batch="$SEG_BATCH" threads="$THREADS" \
  data="$DATA" gan_recipe="$(gan_recipe GENERATOR)" seg_recipe="${seg_recipe[*]}"
cp "$WORK/record.json" "$OUT/record.json" # a partial result comes back even if nothing else does

# shellcheck disable=SC2046 # the recipe is a list of words without spaces
"${timebox[@]}" gan --run "$WORK/spade" --probe "$PROBE_STEPS" -- $(gan_recipe spade) &
spade=$!
# shellcheck disable=SC2046
"${timebox[@]}" gan --run "$WORK/ccfpse" --probe "$PROBE_STEPS" -- $(gan_recipe ccfpse) &
ccfpse=$!
seg= seg_runs=()
if [ "$SEGMENTER" = 1 ]; then
  "${timebox[@]}" segmenter --run "$WORK/segmenter" --probe "$SEG_PROBE" --guess "$SEG_GUESS" -- "${seg_recipe[@]}" &
  seg=$!
  seg_runs=(segmenter)
fi
if [ "$DEVICE" = cuda ] && command -v nvidia-smi >/dev/null; then # GPU load and memory every 10 s, for the logs
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 10 >"$WORK/gpu.csv" &
  smi=$!
fi
status=0
for pid in $spade $ccfpse ${seg:+$seg}; do
  wait "$pid" || status=$?
done
if [ -n "${smi:-}" ]; then kill "$smi" 2>/dev/null || true; fi
echo "issue13: jobs done after $(($(date +%s) - t0)) s (timebox status $status)"

"$PYTHON" scripts/device/collect.py --work "$WORK" --out "$OUT" --gan spade ccfpse --segmenter "${seg_runs[@]}" || status=$?
echo "issue13: finished after $(($(date +%s) - t0)) s; results in $OUT (status $status)"
exit "$status"
