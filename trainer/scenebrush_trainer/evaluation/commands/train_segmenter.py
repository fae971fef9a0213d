"""`train-segmenter`: trains the CamVid segmenter (DABNet by default, as shipped; `--architecture`) from
scratch; run it again to continue."""

from dataclasses import fields
from pathlib import Path

from ...commands.argtypes import integer
from ...networks.segmenter import segmenter_architectures
from ...training.segmenter import SegmenterConfig, train_segmenter

NAME = "train-segmenter"
HELP = "train the segmentation network that scores generated images (resumes from OUT/last.pt)"


def add_arguments(p) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/segmenter"), help="run folder (default runs/segmenter)")
    p.add_argument("--data", metavar="DIR", help="CamVid root (default ../shared/data/camvid or $SCENEBRUSH_CAMVID)")
    p.add_argument("--restart", action="store_true", help="start over even when OUT/last.pt exists")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="train on the CPU (default) or the GPU; the checkpoints load on either")  # fmt: skip
    p.add_argument("--until", type=integer(1), metavar="EPOCH",
                   help="stop after this epoch (last.pt written); run again to go on, with any --epochs")  # fmt: skip
    g = p.add_argument_group("settings (defaults: the recipe of the shipped segmenter)")
    for f in fields(SegmenterConfig):
        choices = list(segmenter_architectures()) if f.name == "architecture" else None
        g.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=None, choices=choices,
                       help=f"default {f.default}")  # fmt: skip


def run(args) -> int:
    overrides = {f.name: getattr(args, f.name) for f in fields(SegmenterConfig) if getattr(args, f.name) is not None}
    cfg = SegmenterConfig(**overrides)
    best = train_segmenter(cfg, args.out, args.data, args.restart, args.device, args.until)
    print(f"best val mIoU {best['miou']:.4f}, pixel accuracy {best['pixel_accuracy']:.4f} (epoch {best['epoch']})")
    return 0
