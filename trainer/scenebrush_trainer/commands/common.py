"""Arguments shared by several subcommands."""

import argparse

from ..data.presets import PRESETS, dataset_spec


def add_data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (a preset, or your own folders)")
    g.add_argument("--dataset", choices=sorted(PRESETS), help="dataset preset (default camvid)")
    g.add_argument("--data", metavar="DIR", help="root folder of the preset (default ../shared/data/<preset>, "
                   "or $SCENEBRUSH_CAMVID / $SCENEBRUSH_COCO_STUFF)")  # fmt: skip
    g.add_argument("--split", default="train", help="split of the preset (default train)")
    g.add_argument("--photos", metavar="DIR", help="your photos (any of png/jpg/...)")
    g.add_argument("--labels", metavar="DIR", help="your label maps: 8-bit PNGs of class ids, same file names")
    g.add_argument("--classes", metavar="JSON", help="your class list file")


def data_spec(args):
    return dataset_spec(args.dataset, args.data, args.split, args.photos, args.labels, args.classes)
