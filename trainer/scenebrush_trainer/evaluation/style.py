"""Does a photo's style carry over? For a package with a style encoder (encoder.onnx), every pair of the split
is rendered a second time with z = the encoder's mu of its own photo, and compared with that photo, as are the
images from the seeds' noise (issue 14, docs/evaluation.md "Style from a photo").

Two distances, both in [0, 1], on images at the generator's size:
- block colour: the mean absolute difference of the 8x8-pixel block means (colour and light, where they are;
  layout-aligned, since both images follow the photo's layout),
- colour histogram: the total variation distance of the joint RGB histograms (8 bins a channel): the palette,
  wherever it is.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

BLOCK = 8
BINS = 8


def to_unit(images: np.ndarray) -> torch.Tensor:
    """[N, 3, H, W] in [-1, 1] -> [0, 1] float tensor."""
    return (torch.from_numpy(np.ascontiguousarray(images, np.float32)).clamp(-1, 1) + 1) / 2


def block_colour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per image [N]: mean |block mean of a - block mean of b| over 8x8 blocks and channels."""
    pa, pb = (F.avg_pool2d(to_unit(x), BLOCK, ceil_mode=True) for x in (a, b))
    return (pa - pb).abs().mean(dim=(1, 2, 3)).numpy()


def colour_histograms(images: np.ndarray) -> np.ndarray:
    """[N, BINS**3] normalised joint RGB histograms."""
    q = (to_unit(images) * BINS).long().clamp(max=BINS - 1)  # [N, 3, H, W] bin per channel
    index = (q[:, 0] * BINS + q[:, 1]) * BINS + q[:, 2]
    counts = torch.stack([torch.bincount(i.flatten(), minlength=BINS**3) for i in index]).double()
    return (counts / counts.sum(1, keepdim=True)).numpy()


def colour_histogram_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per image [N]: total variation distance of the joint RGB histograms (0: same palette, 1: disjoint)."""
    return 0.5 * np.abs(colour_histograms(a) - colour_histograms(b)).sum(1)


DISTANCES = {"block_colour": block_colour_distance, "colour_histogram": colour_histogram_distance}


@dataclass
class StyleMeter:
    """Per image: the distance of its own-style image to its photo, and the mean over seeds of the seeds'."""

    own: dict = field(default_factory=lambda: {k: [] for k in DISTANCES})
    seeds: dict = field(default_factory=lambda: {k: [] for k in DISTANCES})

    def add(self, photos: np.ndarray, own: np.ndarray, seed_images: list[np.ndarray]) -> None:
        for name, distance in DISTANCES.items():
            self.own[name].extend(distance(own, photos).tolist())
            self.seeds[name].extend(np.mean([distance(s, photos) for s in seed_images], axis=0).tolist())

    def to_json(self, own_scores=None) -> dict:
        """own_scores: the segmenter's scores on the own-style images (metrics.Scores): does the photo's style keep
        the layout as readable as the seeds' (the report's miou)?"""
        out = {"images": len(self.own["block_colour"])}
        if own_scores is not None:
            out["own_style_miou"] = float(own_scores.miou)
            out["own_style_pixel_accuracy"] = float(own_scores.pixel_accuracy)
        for name in DISTANCES:
            own, seeds = np.array(self.own[name]), np.array(self.seeds[name])
            out[name] = {
                "own_style_median": float(np.median(own)),
                "seed_median": float(np.median(seeds)),
                "own_style_closer": float(np.mean(own < seeds)),  # fraction of images
            }
        return out
