"""Photo/label pairs resized to the model's size: photos bilinear with antialiasing, labels nearest."""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .check import read_label
from .presets import DatasetSpec


class PairedDataset(torch.utils.data.Dataset):
    """Items: (photo uint8 [3, H, W], label int64 [H, W]). `preload()` keeps everything in memory."""

    def __init__(self, spec: DatasetSpec, pairs: list[tuple[Path, Path]], height: int, width: int):
        self.spec, self.pairs, self.height, self.width = spec, pairs, height, width
        self.photos: torch.Tensor | None = None
        self.labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        photo_path, label_path = self.pairs[i]
        size = (self.width, self.height)
        with Image.open(photo_path) as im:
            photo = np.asarray(im.convert("RGB").resize(size, Image.BILINEAR, reducing_gap=None))
        label = read_label(label_path, self.spec.classes)
        label = np.asarray(Image.fromarray(label).resize(size, Image.NEAREST))
        return torch.from_numpy(photo.copy()).permute(2, 0, 1).contiguous(), torch.from_numpy(label.astype(np.int64))

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self.photos is not None:
            return self.photos[i], self.labels[i]
        return self.load(i)

    def cache_bytes(self) -> int:
        return len(self) * self.height * self.width * 4  # 3 bytes photo + 1 byte label

    def preload(self) -> None:
        items = [self.load(i) for i in range(len(self))]
        self.photos = torch.stack([p for p, _ in items])
        labels = torch.stack([lab for _, lab in items])
        self.labels = labels.to(torch.uint8) if len(self.spec.classes) <= 256 else labels.to(torch.int32)

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.photos is not None:
            return self.photos[indices], self.labels[indices].long()
        items = [self.load(int(i)) for i in indices]
        return torch.stack([p for p, _ in items]), torch.stack([lab for _, lab in items])

    def fingerprint(self) -> str:
        """Identifies the data a run trains on: file names and sizes, classes and resolution."""
        h = hashlib.sha256()
        for photo, label in self.pairs:
            h.update(f"{photo.name}:{photo.stat().st_size}|{label.name}:{label.stat().st_size}\n".encode())
        h.update(json.dumps([self.spec.classes.file_json(), self.height, self.width]).encode())
        return h.hexdigest()[:16]


def to_model_range(photos_uint8: torch.Tensor) -> torch.Tensor:
    return photos_uint8.float() / 127.5 - 1.0
