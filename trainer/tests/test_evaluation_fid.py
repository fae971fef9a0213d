"""FID: the Fréchet distance against its closed form on Gaussians, and the bundled Inception network."""

import numpy as np
import pytest
import torch

from scenebrush_trainer.evaluation.fid import (
    FIDError,
    InceptionFeatures,
    fid_from_features,
    frechet_distance,
    sqrtm_psd,
    statistics,
    tf_bilinear,
)


def test_diagonal_gaussians_match_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    # commuting covariances: tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2
    want = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(1 + 6.25 + 4 + 1)


def test_non_commuting_covariances_match_the_2x2_closed_form():
    s1 = np.array([[2.0, 0.8], [0.8, 1.0]])
    s2 = np.array([[1.0, -0.3], [-0.3, 3.0]])
    assert not np.allclose(s1 @ s2, s2 @ s1)
    # a 2x2 matrix A with positive eigenvalues has tr(sqrt(A)) = sqrt(tr(A) + 2 sqrt(det(A)))
    prod = s1 @ s2
    tr_sqrt = np.sqrt(np.trace(prod) + 2 * np.sqrt(np.linalg.det(prod)))
    mu1, mu2 = np.array([0.5, -1.0]), np.array([0.0, 0.0])
    want = 1.25 + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-10)


def test_sampled_gaussian_features_converge_to_the_closed_form():
    rng = np.random.default_rng(0)
    a, b = np.array([1.0, 2.0, 0.5, 3.0]), np.array([2.0, 0.5, 0.5, 1.0])
    mu2 = np.array([0.3, 0.0, -0.2, 0.1])
    x = rng.standard_normal((200_000, 4)) * np.sqrt(a)
    y = rng.standard_normal((200_000, 4)) * np.sqrt(b) + mu2
    want = (mu2**2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert fid_from_features(x, y) == pytest.approx(want, abs=0.03)
    assert fid_from_features(x, x) == pytest.approx(0.0, abs=1e-9)


def test_rank_deficient_covariances_stay_real_and_non_negative():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((10, 50)), rng.standard_normal((10, 50)) + 0.1  # fewer samples than dimensions
    d = fid_from_features(x, y)
    assert np.isfinite(d) and d > 0


def test_sqrtm_psd_squares_back():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((6, 6))
    a = m @ m.T
    r = sqrtm_psd(a)
    np.testing.assert_allclose(r @ r, a, atol=1e-10)
    np.testing.assert_allclose(r, r.T, atol=1e-12)


def test_bad_statistics_are_clear_errors():
    with pytest.raises(FIDError, match="at least 2"):
        statistics(np.zeros((1, 8)))
    with pytest.raises(FIDError, match="mismatched"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_tf_bilinear_is_identity_at_the_same_size_and_keeps_constants():
    x = torch.rand(2, 3, 12, 16)
    torch.testing.assert_close(tf_bilinear(x, (12, 16)), x)
    c = torch.full((1, 3, 20, 30), 0.25)
    torch.testing.assert_close(tf_bilinear(c, (299, 299)), torch.full((1, 3, 299, 299), 0.25))


@pytest.fixture(scope="module")
def inception():
    return InceptionFeatures(batch_size=4)


def test_inception_gives_deterministic_pool3_features(inception):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(3, 3, 48, 64, generator=g) * 2 - 1
    f = inception(images)
    assert f.shape == (3, 2048)
    assert (f >= 0).all() and f.max() > 0  # pool3 follows a ReLU: non-negative averages
    np.testing.assert_allclose(inception(images), f, rtol=1e-6, atol=1e-6)
    # batching does not change features
    np.testing.assert_allclose(np.concatenate([inception(images[:1]), inception(images[1:])]), f, atol=1e-4)
    # different content gives different features
    assert np.abs(inception(-images) - f).max() > 1e-2
