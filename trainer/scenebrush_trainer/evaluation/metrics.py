"""Segmentation scores from a confusion matrix: per-class IoU, mIoU and pixel accuracy.

Conventions: pixels whose ground truth is the don't-care id are ignored entirely; a prediction of the
don't-care id on a labelled pixel counts as wrong (it is in no class's intersection). mIoU averages IoU
over the classes present in the ground truth or the prediction of the evaluated set; a class absent from
both has no IoU (0/0) and is left out, not counted as 0 or 1.
"""

from dataclasses import dataclass

import numpy as np


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, num_classes: int, dontcare: int | None) -> np.ndarray:
    """int64 [K, K+1], rows = true class, cols = predicted class (col K: predicted don't-care or out of range).

    K = num_classes without the don't-care id; class ids above `dontcare` shift down by one."""
    truth, pred = np.asarray(truth).ravel().astype(np.int64), np.asarray(pred).ravel().astype(np.int64)
    if truth.shape != pred.shape:
        raise ValueError(f"label map has {truth.size} pixels but the prediction has {pred.size}")
    keep = (truth >= 0) & (truth < num_classes)
    if dontcare is not None:
        keep &= truth != dontcare
    truth, pred = truth[keep], pred[keep]
    k = num_classes - (dontcare is not None)
    truth, pred = _compact(truth, num_classes, dontcare), _compact(pred, num_classes, dontcare)
    pred = np.where((pred < 0) | (pred >= k), k, pred)
    return np.bincount(truth * (k + 1) + pred, minlength=k * (k + 1)).reshape(k, k + 1)


def _compact(ids: np.ndarray, num_classes: int, dontcare: int | None) -> np.ndarray:
    """Maps class ids onto 0..K-1 without the don't-care id; don't-care and invalid ids become K."""
    k = num_classes - (dontcare is not None)
    out = ids.copy()
    if dontcare is not None:
        out = np.where(ids > dontcare, ids - 1, ids)
        out = np.where(ids == dontcare, k, out)
    return np.where((ids < 0) | (ids >= num_classes), k, out)


@dataclass
class Scores:
    miou: float
    pixel_accuracy: float
    iou: list[float | None]  # per scored class, None where the class is absent from truth and prediction
    pixels: int

    def to_json(self, names: list[str]) -> dict:
        return {
            "miou": self.miou,
            "pixel_accuracy": self.pixel_accuracy,
            "per_class_iou": {n: v for n, v in zip(names, self.iou)},
            "pixels": self.pixels,
        }


def scores(conf: np.ndarray) -> Scores:
    conf = np.asarray(conf, np.int64)
    k = conf.shape[0]
    tp = np.diag(conf[:, :k]).astype(np.float64)
    truth = conf.sum(1)
    predicted = conf[:, :k].sum(0)
    union = truth + predicted - tp
    present = union > 0
    iou = np.where(present, tp / np.maximum(union, 1), np.nan)
    total = int(truth.sum())
    return Scores(
        miou=float(np.nanmean(iou)) if present.any() else float("nan"),
        pixel_accuracy=float(tp.sum() / total) if total else float("nan"),
        iou=[None if np.isnan(v) else float(v) for v in iou],
        pixels=total,
    )


def scored_names(names, dontcare: int | None) -> list[str]:
    return [n for i, n in enumerate(names) if i != dontcare]


class ConfusionMeter:
    """Accumulates a confusion matrix over batches of (truth, prediction) label maps."""

    def __init__(self, num_classes: int, dontcare: int | None):
        self.num_classes, self.dontcare = num_classes, dontcare
        k = num_classes - (dontcare is not None)
        self.matrix = np.zeros((k, k + 1), np.int64)

    def add(self, truth, pred) -> None:
        self.matrix += confusion_matrix(truth, pred, self.num_classes, self.dontcare)

    def scores(self) -> Scores:
        return scores(self.matrix)
