"""KID: the unbiased MMD^2 with the cubic polynomial kernel, and its delete-half jackknife standard error."""

import numpy as np
import pytest

from scenebrush_trainer.evaluation.kid import KIDError, kid, polynomial_kernel


def test_a_case_checked_by_hand():
    # d = 1, k(a, b) = (ab + 1)^3; X = {0, 1}, Y = {1, 2}
    # within X (off the diagonal): k(0, 1) = 1; within Y: k(1, 2) = 27
    # between: k(0, 1) = 1, k(0, 2) = 1, k(1, 1) = 8, k(1, 2) = 27, mean 37/4
    value, se = kid(np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]]))
    assert value == pytest.approx(1 + 27 - 2 * 37 / 4) and se is None
    assert polynomial_kernel(np.array([[2.0, 0.0]]), np.array([[1.0, 3.0]]))[0, 0] == pytest.approx((2 / 2 + 1) ** 3)


def test_identical_sets_score_about_zero_and_shifted_sets_clearly_above():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 32))
    # one set against itself: the estimator compares x_i with x_i only between the sets, so it is
    # 2 (mean off-diagonal k - mean diagonal k) / n exactly: a 1/n offset, not a distance
    k = polynomial_kernel(x, x)
    off, diag = (k.sum() - np.trace(k)) / (60 * 59), np.trace(k) / 60
    same, _ = kid(x, x.copy())
    assert same == pytest.approx(2 * (off - diag) / 60)
    big = rng.standard_normal((600, 32))
    assert abs(kid(big, big.copy(), subsets=2)[0]) < abs(same) / 5  # and it vanishes as n grows
    # two independent sets of one distribution: about 0, within the standard error; shifted: far above it
    other, other_se = kid(rng.standard_normal((60, 32)), rng.standard_normal((60, 32)))
    shifted, shifted_se = kid(x + 0.5, rng.standard_normal((60, 32)))
    assert abs(other) < 3 * other_se
    assert shifted > 5 * shifted_se > 0 and shifted > 10 * abs(other)


def test_unbiased_on_small_samples_where_the_plain_estimate_is_not():
    rng = np.random.default_rng(1)
    values, biased = [], []
    for _ in range(300):  # 8 features a set from one distribution: the expected KID is 0
        x, y = rng.standard_normal((8, 16)), rng.standard_normal((8, 16))
        values.append(kid(x, y, subsets=1)[0])
        kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
        biased.append(kxx.mean() + kyy.mean() - 2 * kxy.mean())  # diagonal included: the V-statistic
    mc = np.std(values) / np.sqrt(len(values))
    assert abs(np.mean(values)) < 3 * mc
    assert np.mean(biased) > 10 * mc


def test_the_standard_error_matches_the_spread_over_independent_samples():
    rng = np.random.default_rng(2)
    values, errors = [], []
    for t in range(100):
        value, se = kid(rng.standard_normal((30, 16)) + 0.3, rng.standard_normal((30, 16)), subsets=50, seed=t)
        values.append(value)
        errors.append(se)
    ratio = np.mean(errors) / np.std(values)
    assert 0.7 < ratio < 1.6, ratio  # the delete-half jackknife errs on the large side (about 1.2 here)


def test_bad_shapes_are_refused_with_the_shapes():
    with pytest.raises(KIDError, match=r"\(3, 4\) and \(3, 5\)"):
        kid(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(KIDError, match="at least 2"):
        kid(np.zeros((1, 4)), np.zeros((3, 4)))
