"""Evaluation: segmentation metrics, FID, the CamVid segmenter, `evaluate` and the ablation runner."""
