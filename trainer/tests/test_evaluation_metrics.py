"""mIoU, per-class IoU and pixel accuracy against confusion matrices worked out by hand."""

import math

import numpy as np
import pytest

from scenebrush_trainer.evaluation.metrics import ConfusionMeter, confusion_matrix, scores


def test_void_pixels_ignored_and_void_predictions_wrong():
    # 4 ids, 3 = don't care. Truth 3 pixels are ignored; a prediction of 3 on a labelled pixel is an error.
    truth = np.array([0, 0, 1, 1, 2, 3, 3])
    pred = np.array([0, 1, 1, 1, 3, 0, 2])
    conf = confusion_matrix(truth, pred, 4, dontcare=3)
    want = np.array([[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(conf, want)
    s = scores(conf)
    # IoU0 = 1 / (2 + 1 - 1), IoU1 = 2 / (2 + 3 - 2), IoU2 = 0 / (1 + 0 - 0)
    assert s.iou == pytest.approx([1 / 2, 2 / 3, 0.0])
    assert s.miou == pytest.approx((1 / 2 + 2 / 3 + 0) / 3)
    assert s.pixel_accuracy == pytest.approx(3 / 5)
    assert s.pixels == 5


def test_classes_absent_from_truth_and_prediction_are_left_out():
    # 5 ids, 4 = don't care; class 3 never occurs, class 2 is only predicted (IoU 0, counted).
    truth = np.array([[0, 0, 1], [1, 4, 4]])
    pred = np.array([[0, 2, 1], [1, 3, 0]])
    s = scores(confusion_matrix(truth, pred, 5, dontcare=4))
    # IoU0 = 1 / (2 + 1 - 1); IoU1 = 2 / (2 + 2 - 2); IoU2 = 0 / (0 + 1 - 0); class 3: 0/0, excluded
    assert s.iou == [pytest.approx(0.5), pytest.approx(1.0), 0.0, None]
    assert s.miou == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert s.pixel_accuracy == pytest.approx(3 / 4)


def test_dontcare_id_in_the_middle_shifts_later_classes():
    # ids 0, 2, 3 are classes and 1 is don't care: scored classes are [0, 2, 3] in that order.
    truth = np.array([0, 1, 2, 3, 3])
    pred = np.array([0, 0, 3, 3, 1])
    conf = confusion_matrix(truth, pred, 4, dontcare=1)
    np.testing.assert_array_equal(conf, [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]])
    s = scores(conf)
    assert s.iou == pytest.approx([1.0, 0.0, 1 / 3])


def test_no_dontcare_and_out_of_range_predictions():
    truth = np.array([0, 1, 1])
    pred = np.array([0, 7, 1])  # 7 is no class: wrong, counted in the extra column
    conf = confusion_matrix(truth, pred, 2, dontcare=None)
    np.testing.assert_array_equal(conf, [[1, 0, 0], [0, 1, 1]])
    assert scores(conf).miou == pytest.approx((1 + 0.5) / 2)


def test_camvid_maps_accumulate_like_one_big_map():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 12, (3, 24, 32))
    pred = np.where(rng.random((3, 24, 32)) < 0.7, truth, rng.integers(0, 12, (3, 24, 32)))
    meter = ConfusionMeter(12, 11)
    for t, p in zip(truth, pred):
        meter.add(t, p)
    np.testing.assert_array_equal(meter.matrix, confusion_matrix(truth, pred, 12, 11))
    s = meter.scores()
    labelled = truth != 11
    assert s.pixels == labelled.sum()
    assert s.pixel_accuracy == pytest.approx((truth == pred)[labelled].mean())
    c = 3  # one class by hand
    inter = ((truth == c) & (pred == c)).sum()
    union = (((truth == c) | (pred == c)) & labelled).sum()
    assert s.iou[c] == pytest.approx(inter / union)


def test_nothing_labelled_gives_nan_not_a_crash():
    s = scores(confusion_matrix(np.full(4, 11), np.zeros(4), 12, 11))
    assert math.isnan(s.miou) and math.isnan(s.pixel_accuracy) and s.pixels == 0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="pixels"):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)), 12, 11)
