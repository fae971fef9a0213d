#!/usr/bin/env bash
# The long background jobs of issues 12 (the study) and 13 (the long generator runs), across sessions and
# machines. One thread each; everything resumes from checkpoints. What lasts is committed: the study's finished
# runs in docs/ablation/study-96x128/state, the long runs in carried/ (trainer/README.md, "Carrying a run").
#
#   scripts/background_runs.sh restore   a fresh machine: put the committed state back into runs/
#   scripts/background_runs.sh start     start or resume the study runner and every long run (background);
#                                        COMPILE=off skips torch.compile's 10-17 minutes when little time is left;
#                                        CELLS="spade-fp-367 ..." limits the study runner to those cells (say, runs
#                                        short enough to finish before the session ends: CC-FPSE trains at about half SPADE's speed);
#                                        LONG="name ..." starts only those long runs (paused ones included);
#                                        RUNNERS=2 starts two study runners (each trains the next free run; a run
#                                        is locked while one trains it); LONG=none then leaves the cores to them
#   scripts/background_runs.sh status    what runs, and where each stands
#   scripts/background_runs.sh stop      SIGTERM (each writes a checkpoint), then wait for them to exit
#   scripts/background_runs.sh carry     score the study, carry it and the long runs into the repository;
#                                        then commit docs/ablation/study-96x128/state and carried/
#   scripts/background_runs.sh score NAME   the protocol score line `carry` appends to carried/NAME/progress.jsonl,
#                                        alone (when that step failed)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
DATA=${SCENEBRUSH_CAMVID:-/work/shared/data/camvid}
BUDGET=study-96x128
STUDY_WORK=runs/study
STUDY_STATE=docs/ablation/$BUDGET/state
STUDY_COMMIT=17bb040 # the trainer every study run trains with (its run.json records it)

# Long runs: NAME, the trainer commit it trains with, its arguments (without --out, --events, --resume).
# clade2-enc-192x256 replaced clade-enc-192x256 (session 6, stopped at step 4530, not carried): that one started
# CLADE from the identity and barely used its labels (trainer/README.md, "Why the random start"). It trained
# with 4fbd7c4 and these arguments, to step 10452 (session 8; carried at 8015):
#   --data $DATA --generator spade --modulation clade --discriminator fpse --preset small --z-dim 256 --encoder
#   --lambda-l1 20 --ema 0.999 --seed 1 --steps 40000 --checkpoint-every 250 --sample-every 2000 --log-every 50
# clade3-style-192x256 fine-tuned it with style norms (session 8: its z and its encoder's photo barely changed
# the image; trainer/README.md, "Style that carries light and colour"), from runs/long/clade2-enc-192x256, to step
# 5142, shipped as models/camvid-clade, and on to 17336 (session 9, carried: mIoU 0.457, FID 208.7) and 27018
# (session 10, carried; probes at 18000 / 19000 / 20000: mIoU 0.462 / 0.460 / 0.472, mean 0.465, under the 0.490
# gate; FID 206 / 223 / 215). `restore` puts the carried run back on a fresh machine; `start` resumes it (without
# either it would start again from models/camvid-clade: --init-from).
# ccfpse2-enc-192x256 (session 10, issue 13): CC-FPSE fine-tuned from camvid-ccfpse (whose weights
# `recover-weights` rebuilds from its model.onnx, the discriminator from camvid-spade's checkpoint: RECOVERED) with a
# style encoder added, L1 20, no mode seeking (the encoder gives each photo its z), in bf16 (1.65x for CC-FPSE on this
# CPU, judged as good as float32 at equal steps: trainer/README.md, "Mixed precision on a CPU"). It ran to step 1315
# (session 11, pinned 8a472f7, not carried) and gave way to ccfpse3-light-enc-192x256: the same recipe with the
# predictors folded into light ones (--light-predictors: 6.45 against 17.96 GMAC; trainer/README.md, "Cheaper
# CC-FPSE"), the form that can follow the brush in the app.
# spade2-enc-192x256 (session 11, issue 13): the default generator (SPADE, spatial modulation) fine-tuned from
# camvid-spade (2000 steps at 192x256) with a style encoder and style norms, L1 20, no mode seeking, bf16.
# clade3 is paused from session 11 on (PAUSED): its mIoU crept up ~0.01 per 5000 steps, under the gate, FID flat.
# spade2-enc and ccfpse3-light-enc were lost with session 11's machine (never carried: spade2 at ~3000 steps,
# ccfpse3 at ~750) and give way to the same recipes with the study's recommended discriminators (issue 12,
# docs/ablation.md: at 367 images, equal steps and equal CPU time, SPADE's lowest KID came with the multi-scale
# PatchGAN and CC-FPSE's with FP; FPSE, the shipped models' discriminator, was never better): spade3-patchgan-enc
# and ccfpse4-light-fp-enc keep their generator's weights and start a fresh discriminator of that kind
# (`train --init-from ... --discriminator`, 7019429).
RECOVERED=runs/long/ccfpse-recovered
PAUSED=${PAUSED-clade3-style-192x256} # long runs `start` skips unless LONG names them
LONG_RUNS=(
  "clade3-style-192x256|364ac3e|--data $DATA --init-from models/camvid-clade --style-norms --lambda-l1 20 --ema 0.999 --seed 2 --steps 40000 --checkpoint-every 250 --sample-every 2000 --log-every 50 --compile off --threads 1"
  "ccfpse4-light-fp-enc-192x256|7019429|--data $DATA --init-from $RECOVERED --light-predictors --discriminator fp --encoder --lambda-l1 20 --lambda-ms 0 --ema 0.999 --seed 6 --steps 40000 --checkpoint-every 250 --sample-every 2000 --log-every 50 --compile off --amp bf16 --threads 1"
  "spade3-patchgan-enc-192x256|7019429|--data $DATA --init-from models/camvid-spade --discriminator patchgan --encoder --style-norms --lambda-l1 20 --lambda-ms 0 --ema 0.999 --seed 5 --steps 40000 --checkpoint-every 250 --sample-every 2000 --log-every 50 --compile off --amp bf16 --threads 1"
)

log() { printf '[background_runs] %s\n' "$*" >&2; }

pin() { # pin COMMIT -> folder holding that commit's trainer package
  local dir=$1 commit=$2
  if [ ! -d "$dir/trainer/scenebrush_trainer" ]; then
    mkdir -p "$dir"
    git archive "$commit" trainer/scenebrush_trainer | tar -x -C "$dir"
    echo "$commit" >"$dir/COMMIT"
  fi
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

detach() { # PIDFILE LOG COMMAND...: run in its own session; the PID written is the command's own (after exec)
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  while [ ! -s "$pidfile" ]; do sleep 0.1; done
}

trainer() { env PYTHONPATH=trainer OMP_NUM_THREADS=1 "$PY" -m scenebrush_trainer "$@"; }

score_long() { # NAME: where runs/long/NAME stands by the evaluation protocol (val 101 x z seeds 0, 1), one line
  # appended to carried/NAME/progress.jsonl; run by `carry`, and by `score NAME` when that step failed
  local name=$1 probe
  probe=runs/long/probe/$name-$(date +%Y%m%d-%H%M%S) # package ids are lowercase
  trainer export --checkpoint "runs/long/$name" --out "$probe" >/dev/null
  trainer evaluate --package "$probe" --data "$DATA" --seeds 0 1 --threads 2 --no-write \
    --report "$probe/evaluation-val.json" >/dev/null
  "$PY" - "$probe" "carried/$name/progress.jsonl" <<'EOF_PY'
import json, sys, time
probe, out = sys.argv[1:]
meta, r = (json.load(open(f"{probe}/{f}")) for f in ("model.json", "evaluation-val.json"))
keys = ("miou", "pixel_accuracy", "fid", "kid", "kid_se", "seed_diversity", "artefacts", "style_from_photo")
line = {"step": meta["training"]["steps"], "epochs": meta["training"]["epochs"], "date": time.strftime("%Y-%m-%d"), **{k: r.get(k) for k in keys},
        "images": r["generated"], "segmenter": r["segmenter"]["id"], "real_miou": r["segmenter"]["real_miou"]}
open(out, "a").write(json.dumps(line) + "\n")
print(json.dumps(line))
EOF_PY
}

case "${1:-}" in
restore)
  if [ -d "$STUDY_STATE" ]; then
    trainer study carry --budget "$BUDGET" --work "$STUDY_STATE" --to "$STUDY_WORK"
  else
    log "no study state committed yet ($STUDY_STATE)"
  fi
  for entry in "${LONG_RUNS[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    if [ -f "carried/$name/checkpoint.pt" ]; then
      # refused (and nothing changed) when runs/long/NAME is already as far: this machine kept its run
      trainer carry "carried/$name" --to "runs/long/$name" || log "$name: kept runs/long/$name as it is"
    fi
  done
  ;;
start)
  mkdir -p runs/long "$STUDY_WORK"
  code=$STUDY_WORK/code/$STUDY_COMMIT
  pin "$code" "$STUDY_COMMIT"
  for ((r = 1; r <= ${RUNNERS:-1}; r++)); do
    if running "$STUDY_WORK/runner-$r.pid"; then
      log "study runner-$r already running (pid $(cat "$STUDY_WORK/runner-$r.pid"))"
      continue
    fi
    detach "$STUDY_WORK/runner-$r.pid" "$STUDY_WORK/runner-$r.log" env PYTHONPATH="$code/trainer" OMP_NUM_THREADS=1 \
      "$PY" -m scenebrush_trainer study train --budget "$BUDGET" --work "$STUDY_WORK" --data "$DATA" --threads 1 \
      --runner "runner-$r" ${CELLS:+--cells $CELLS}
    log "study runner-$r started (pid $(cat "$STUDY_WORK/runner-$r.pid")), log $STUDY_WORK/runner-$r.log"
  done
  for entry in "${LONG_RUNS[@]}"; do
    IFS='|' read -r name commit args <<<"$entry"
    out=runs/long/$name
    if [ -n "${LONG:-}" ]; then
      [[ " $LONG " == *" $name "* ]] || continue
    elif [[ " $PAUSED " == *" $name "* ]]; then
      log "$name paused (LONG=$name starts it)"
      continue
    fi
    if running "$out.pid"; then
      log "$name already running (pid $(cat "$out.pid"))"
      continue
    fi
    pin "runs/long/code/$commit" "$commit"
    resume=()
    [ -f "$out/checkpoint.pt" ] && resume=(--resume)
    if [ ${#resume[@]} -eq 0 ] && [[ " $args " == *" --init-from $RECOVERED "* ]] && [ ! -f "$RECOVERED/checkpoint.pt" ]; then
      trainer recover-weights --package models/camvid-ccfpse --discriminator-from models/camvid-spade --data "$DATA" \
        --out "$RECOVERED" >/dev/null
    fi
    # shellcheck disable=SC2086 # the arguments are words
    detach "$out.pid" "$out.log" env PYTHONPATH="runs/long/code/$commit/trainer" OMP_NUM_THREADS=1 "$PY" \
      -m scenebrush_trainer train $args ${COMPILE:+--compile "$COMPILE"} --out "$out" --events "$out.events.jsonl" \
      "${resume[@]}"
    log "$name started (pid $(cat "$out.pid"), ${resume[*]:-new run}), log $out.log"
  done
  ;;
status)
  for f in "$STUDY_WORK"/runner-*.pid; do
    [ -f "$f" ] || continue
    if running "$f"; then log "study $(basename "$f" .pid): running"; else log "study $(basename "$f" .pid): stopped"; fi
  done
  trainer study plan --budget "$BUDGET" --work "$STUDY_WORK" | grep -v "not started" || true
  for entry in "${LONG_RUNS[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    state=stopped
    running "runs/long/$name.pid" && state=running
    log "$name: $state; $(grep -h ' INFO step ' "runs/long/$name.log" 2>/dev/null | tail -1 | cut -c1-60)"
  done
  ;;
stop)
  pids=()
  for f in "$STUDY_WORK"/runner-*.pid runs/long/*.pid; do
    if running "$f"; then
      pids+=("$(cat "$f")")
      kill -TERM "$(cat "$f")"
    fi
  done
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  done
  log "stopped ${#pids[@]} process(es)"
  ;;
carry)
  trainer study score --budget "$BUDGET" --work "$STUDY_WORK" --threads 2
  trainer study carry --budget "$BUDGET" --work "$STUDY_WORK" --to "$STUDY_STATE"
  for entry in "${LONG_RUNS[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    [ -f "runs/long/$name/checkpoint.pt" ] || continue
    if trainer carry "runs/long/$name" --to "carried/$name"; then
      score_long "$name"
    else
      log "$name: nothing newer to carry"
    fi
  done
  log "now commit: git add $STUDY_STATE carried && git commit"
  ;;
score)
  [ $# -ge 2 ] || { log "score: name the long runs to score, e.g. $0 score clade2-enc-192x256"; exit 2; }
  for name in "${@:2}"; do
    [ -f "runs/long/$name/checkpoint.pt" ] || { log "score: runs/long/$name/checkpoint.pt not found"; exit 1; }
    score_long "$name"
  done
  ;;
*)
  sed -n 2,16p "$0"
  exit 2
  ;;
esac
