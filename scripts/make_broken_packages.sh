#!/usr/bin/env bash
# Builds a corpus of model packages broken in every way we know, plus two good ones, from the
# untrained fixture packages. tests/packages.rs runs `scenebrush models` and the registry over
# it: nothing may panic or hang, each broken package must be listed with a message naming its
# file, and the good ones must stay usable.
#
#   scripts/make_broken_packages.sh OUT_DIR
#
# OUT_DIR must not exist yet. Each folder name says what is wrong; README.txt lists them.
# Cases that need an unprivileged user (unreadable files) are made only when not run as root.
set -euo pipefail

out=${1:?usage: make_broken_packages.sh OUT_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${SCENEBRUSH_TEST_FIXTURES:-$here/tests/fixtures/models}
spade=$fixtures/fixture-spade-untrained
ccfpse=$fixtures/fixture-ccfpse-untrained
[ ! -e "$out" ] || { echo "make_broken_packages.sh: $out exists; give a new folder" >&2; exit 2; }
[ -f "$spade/model.json" ] || { echo "make_broken_packages.sh: no fixture package at $spade" >&2; exit 2; }
mkdir -p "$out"

# copy SRC FOLDER: a copy of a fixture package whose id is its folder name
copy() {
  mkdir -p "$out/$2"
  cp "$1/model.json" "$1/model.onnx" "$out/$2/"
  edit "$2" "s/\"id\": \"fixture-[a-z]*-untrained\"/\"id\": \"$2\"/"
}
# edit FOLDER SED_EXPR: edits FOLDER/model.json (portable: no sed -i)
edit() {
  sed -e "$2" "$out/$1/model.json" >"$out/$1/model.json.tmp"
  mv "$out/$1/model.json.tmp" "$out/$1/model.json"
}
note() { echo "$1: $2" >>"$out/README.txt"; }

copy "$spade" good-spade; note good-spade "a good SPADE package"
copy "$ccfpse" good-ccfpse; note good-ccfpse "a good CC-FPSE package"

# model.json
copy "$spade" no-json; rm "$out/no-json/model.json"; note no-json "model.json missing"
copy "$spade" bad-json; printf '{"format": 1, "id": "bad-json",' >"$out/bad-json/model.json"
note bad-json "model.json is not valid JSON"
copy "$spade" json-not-utf8; printf '{"format": 1, "id": "\xff\xfe"}' >"$out/json-not-utf8/model.json"
note json-not-utf8 "model.json is not UTF-8"
copy "$spade" json-is-folder; rm "$out/json-is-folder/model.json"; mkdir "$out/json-is-folder/model.json"
note json-is-folder "model.json is a folder"
copy "$spade" json-huge; : >"$out/json-huge/model.json"
dd if=/dev/zero of="$out/json-huge/model.json" bs=1 count=0 seek=40000000 2>/dev/null
note json-huge "model.json is 40 MB (sparse)"
copy "$spade" json-fifo; rm "$out/json-fifo/model.json"; mkfifo "$out/json-fifo/model.json"
note json-fifo "model.json is a named pipe (reading it would block)"
copy "$spade" json-link-loop; rm "$out/json-link-loop/model.json"
ln -s model.json "$out/json-link-loop/model.json"
note json-link-loop "model.json is a symbolic link to itself"
copy "$spade" json-link-dangling; rm "$out/json-link-dangling/model.json"
ln -s /nonexistent/scenebrush/model.json "$out/json-link-dangling/model.json"
note json-link-dangling "model.json is a symbolic link to nothing"
copy "$spade" future-format; edit future-format 's/"format": 1/"format": 2/'
note future-format "format 2"
copy "$spade" unknown-arch; edit unknown-arch 's/"architecture": "spade"/"architecture": "unet"/'
note unknown-arch "architecture unet"
copy "$spade" huge-size; edit huge-size 's/"height": 192,/"height": 1920000,/'
note huge-size "height 1920000"
copy "$spade" huge-zdim; edit huge-zdim 's/"z_dim": 16,/"z_dim": 1099511627776,/'
note huge-zdim "z_dim 2^40"
copy "$spade" wrong-height; edit wrong-height 's/"height": 192,/"height": 224,/'
note wrong-height "height 224, the network's is 192"
copy "$spade" extra-class
edit extra-class 's/"classes": \[/"classes": [{"id": 12, "name": "Extra", "color": [1, 2, 3]},/'
note extra-class "13 classes, the network has 12"
copy "$spade" duplicate-class-id
edit duplicate-class-id 's/"classes": \[/"classes": [{"id": 3, "name": "Again", "color": [1, 2, 3]},/'
note duplicate-class-id "class id 3 twice"
copy "$spade" bad-id; edit bad-id 's/"id": "bad-id"/"id": "bad id!"/'
note bad-id "an id with a space"
# a copy of good-spade, sorting before it: must not shadow it
copy "$spade" a-copy-of-good-spade; edit a-copy-of-good-spade 's/"id": "a-copy-of-good-spade"/"id": "good-spade"/'
note a-copy-of-good-spade "id good-spade again"

# model.onnx
copy "$spade" no-onnx; rm "$out/no-onnx/model.onnx"; note no-onnx "model.onnx missing"
copy "$spade" onnx-is-folder; rm "$out/onnx-is-folder/model.onnx"; mkdir "$out/onnx-is-folder/model.onnx"
note onnx-is-folder "model.onnx is a folder"
copy "$spade" onnx-empty; : >"$out/onnx-empty/model.onnx"; note onnx-empty "model.onnx is empty"
copy "$spade" onnx-truncated
head -c 100000 "$spade/model.onnx" >"$out/onnx-truncated/model.onnx"
note onnx-truncated "model.onnx cut at 100 kB"
copy "$spade" onnx-random
head -c 65536 /dev/urandom >"$out/onnx-random/model.onnx"
note onnx-random "model.onnx is 64 kB of random bytes"
copy "$spade" onnx-link-loop; rm "$out/onnx-link-loop/model.onnx"
ln -s model.onnx "$out/onnx-link-loop/model.onnx"
note onnx-link-loop "model.onnx is a symbolic link to itself"

# package folders
mkdir "$out/empty-folder"; note empty-folder "no files at all"
ln -s folder-link-loop "$out/folder-link-loop"; note folder-link-loop "a package folder linking to itself"
ln -s /nonexistent/scenebrush/package "$out/folder-link-dangling"
note folder-link-dangling "a package folder linking to nothing"
echo "not a package" >"$out/stray-file.txt"

if [ "$(id -u)" != 0 ]; then
  copy "$spade" json-unreadable; chmod 000 "$out/json-unreadable/model.json"
  note json-unreadable "model.json without read permission"
  copy "$spade" folder-unreadable; chmod 000 "$out/folder-unreadable"
  note folder-unreadable "a package folder without permissions"
fi
echo "$out: $(grep -c . "$out/README.txt") packages"
