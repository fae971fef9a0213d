"""The artefacts people see, measured against the real photos of the same layouts (docs/evaluation.md).

- stripes: how much more the luminance changes across than down, (mean |d/dx|) / (mean |d/dy|), for the
  generated images divided by the same for the real photos: 1 is like the photos, above 1 vertical streaks.
- detail per class: the mean |Laplacian| of the luminance inside the class (pixels whose 3x3 neighbourhood is
  all that class, so edges between classes do not count), generated divided by real: above 1 is texture the
  photos do not have (squiggles on a road, glitter in trees), below 1 is blur.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)


def luminance(images: np.ndarray) -> torch.Tensor:
    """[N, 3, H, W] in [-1, 1] -> [N, 1, H, W] Rec. 601 luma in [0, 1]."""
    x = (torch.from_numpy(np.ascontiguousarray(images, np.float32)).clamp(-1, 1) + 1) / 2
    return (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)


def interior(labels: np.ndarray) -> np.ndarray:
    """[N, H, W] class ids -> the same, with -1 where a 3x3 neighbourhood holds another class (and at borders)."""
    lab = torch.from_numpy(labels.astype(np.int64)).unsqueeze(1).float()
    same = (F.max_pool2d(lab, 3, 1, 1) == lab) & (-F.max_pool2d(-lab, 3, 1, 1) == lab)
    out = np.where(same[:, 0].numpy(), labels, -1)
    out[:, [0, -1], :], out[:, :, [0, -1]] = -1, -1
    return out


@dataclass
class ArtefactMeter:
    num_classes: int
    dx: float = 0.0
    dy: float = 0.0
    lap: np.ndarray = field(default=None)
    count: np.ndarray = field(default=None)

    def __post_init__(self):
        self.lap, self.count = np.zeros(self.num_classes), np.zeros(self.num_classes)

    def add(self, images: np.ndarray, interior_ids: np.ndarray) -> None:
        """`interior_ids`: `interior(labels)` of the images' layouts (computed once for all images of a layout)."""
        y = luminance(images)
        self.dx += float((y[..., :, 1:] - y[..., :, :-1]).abs().mean()) * len(y)  # weighted by images
        self.dy += float((y[..., 1:, :] - y[..., :-1, :]).abs().mean()) * len(y)
        lap = F.conv2d(y, LAPLACIAN, padding=1).abs()[:, 0].numpy().ravel()
        ids = interior_ids.ravel()
        keep = (ids >= 0) & (ids < self.num_classes)
        self.lap += np.bincount(ids[keep], lap[keep], self.num_classes)
        self.count += np.bincount(ids[keep], minlength=self.num_classes)

    def compare(self, real: "ArtefactMeter", names: list[str], dontcare: int | None) -> dict:
        """This meter (generated images) against `real` (the photos of the same layouts); `names` by class id."""

        def detail(c: int) -> float | None:
            if self.count[c] == 0 or real.count[c] == 0 or real.lap[c] == 0:
                return None
            return float((self.lap[c] / self.count[c]) / (real.lap[c] / real.count[c]))

        stripes = (self.dx / self.dy) / (real.dx / real.dy) if self.dy and real.dy and real.dx else None
        detail_by_class = {name: detail(c) for c, name in enumerate(names) if c != dontcare}
        return {"stripes": stripes, "detail": detail_by_class}
