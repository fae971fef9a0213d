#!/usr/bin/env bash
# Moves the shipped models' weight files out of what a device call sends (the whole working tree counts against
# the tool's 64 MiB; issue13.sh needs none of them) and back after the call.
#
#   bash scripts/device/stash_models.sh out    # before the call: models/*/*.onnx, *.pt -> device-stash/ (ignored)
#   bash scripts/device/stash_models.sh back   # after it: moved back, checked against git
#
# Should a session end between the two, `git checkout -- models` restores them from the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
stash=device-stash
case "${1:-}" in
out)
  mapfile -t files < <(git ls-files -- 'models/*.onnx' 'models/*.pt')
  [ "${#files[@]}" -gt 0 ] || { echo "stash_models: no tracked model weights under models/" >&2; exit 1; }
  for f in "${files[@]}"; do
    [ -e "$f" ] || continue
    mkdir -p "$stash/$(dirname "$f")"
    mv "$f" "$stash/$f"
  done
  echo "stash_models: ${#files[@]} files moved to $stash/; run 'bash $0 back' after the call"
  ;;
back)
  [ -d "$stash" ] || { echo "stash_models: nothing stashed ($stash/ missing)" >&2; exit 1; }
  (cd "$stash" && find . -type f) | while read -r f; do
    mkdir -p "$(dirname "$f")"
    mv "$stash/$f" "$f"
  done
  rm -rf "$stash"
  if ! git diff --quiet -- models; then
    echo "stash_models: models/ differs from git after the move back; 'git checkout -- models' restores it" >&2
    exit 1
  fi
  echo "stash_models: the model files are back (models/ matches git)"
  ;;
*)
  echo "usage: $0 out|back" >&2
  exit 2
  ;;
esac
