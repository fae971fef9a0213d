#!/usr/bin/env bash
# The README's pictures of style from a photo and photo editing, from the shipped models and a CamVid
# val photo (read from CamVid's folder; the pictures are derived images, as the sample grids are):
#   docs/style-from-photo.png   the app (scripts/screenshot.sh) in the compare view, camvid-clade taking a
#                               photo's style, camvid-spade (no style encoder) beside it
#   docs/edit-photo.png         the app editing a photo with camvid-clade (--edit-photo, --edit-layout): the
#                               cars repainted as road in the canvas, the edited photo beside it
#   docs/samples/edit-photo.png the command line's edit: photo, its layout with the car repainted as road,
#                               the edited photo (pixels outside the mask unchanged)
#
#   scripts/readme_figures.sh   (after scripts/setup.sh; about 3 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${SCENEBRUSH_CAMVID:-../shared/data/camvid}
style_photo=$data/val/0016E5_08109.png
edit_photo=$data/val/0016E5_08049.png
for f in "$style_photo" "$edit_photo"; do
  [ -f "$f" ] || { echo "readme_figures.sh: $f not found (set SCENEBRUSH_CAMVID to CamVid's folder)" >&2; exit 1; }
done

SCREENSHOT_COMPARE=camvid-clade,camvid-spade SCREENSHOT_WAIT=40 SCREENSHOT_ARGS="--style-photo $style_photo" \
  scripts/screenshot.sh docs/style-from-photo.png

cargo build --release --quiet
bin=target/release/scenebrush
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" segment "$edit_photo" -o "$work/layout.png"
# Remove the cars: every car pixel becomes road (CamVid ids: Road 3, Car 8).
.venv/bin/python - "$work/layout.png" "$work/edited.png" <<'EOF_PY'
import sys
import numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1])).copy()
a[a == 8] = 3
Image.fromarray(a).save(sys.argv[2])
EOF_PY
# The app editing the photo with camvid-clade, the same repaint applied as if painted (--edit-layout).
SCREENSHOT_COMPARE=none SCREENSHOT_WAIT=40 \
  SCREENSHOT_ARGS="--model camvid-clade --edit-photo $edit_photo --edit-layout $work/edited.png" \
  scripts/screenshot.sh docs/edit-photo.png
"$bin" edit --photo "$edit_photo" --layout "$work/edited.png" --model camvid-clade -o "$work/edited-photo.png"
PYTHONPATH=trainer .venv/bin/python - "$edit_photo" "$work/layout.png" "$work/edited.png" "$work/edited-photo.png" \
  docs/samples/edit-photo.png <<'EOF_PY'
import sys
import numpy as np
from PIL import Image
from scenebrush_trainer.data.classes import CAMVID
photo, layout, edited, result, out = sys.argv[1:]
size = Image.open(result).size
colours = np.array(list(CAMVID.colors) + [(0, 0, 0)] * (256 - len(CAMVID.colors)), np.uint8)
def coloured(path):
    return Image.fromarray(colours[np.asarray(Image.open(path))]).resize(size, Image.NEAREST)
def fitted(path):  # centre-cropped to the model's 4:3 and scaled, as the app fits a photo
    im = Image.open(path).convert("RGB")
    w, h = im.size
    cw, ch = min(w, h * size[0] // size[1]), min(h, w * size[1] // size[0])
    left, top = (w - cw) // 2, (h - ch) // 2
    return im.crop((left, top, left + cw, top + ch)).resize(size, Image.BILINEAR)
tiles = [fitted(photo), coloured(layout), coloured(edited), Image.open(result).convert("RGB")]
grid = Image.new("RGB", (size[0] * len(tiles) + 8 * (len(tiles) - 1), size[1]), "white")
for i, t in enumerate(tiles):
    grid.paste(t, (i * (size[0] + 8), 0))
grid.save(out)
EOF_PY
echo "readme_figures.sh: wrote docs/style-from-photo.png, docs/edit-photo.png, docs/samples/edit-photo.png" >&2
