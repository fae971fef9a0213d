"""Training the segmenter from scratch on real photos: class-weighted cross-entropy, flip + scale/crop.

Checkpoints `last.pt` every epoch and `best.pt` on a new best val mIoU (both atomic); a run started again
with the same out folder continues from `last.pt` (given another `epochs`, the poly schedule follows the new
length from there on; `until` stops after an epoch, so that a first run can measure the time an epoch takes).
Progress goes to `log.jsonl` in the out folder (one line per epoch: loss, val mIoU, wall and CPU seconds). The
network: `--architecture` (networks/segmenter.py). On a GPU (`device`), the photos and batches stay there.
"""

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from ..data.check import check_dataset
from ..data.dataset import PairedDataset, to_model_range
from ..data.presets import camvid
from ..evaluation.metrics import ConfusionMeter, scored_names
from ..fileio import atomic_path
from ..networks.segmenter import build_segmenter
from .checkpoint import load, save, set_rng_state
from .events import log


@dataclass(frozen=True)
class SegmenterConfig:
    architecture: str = "dabnet"  # the shipped ruler; segmenter_architectures(): enet, fcdensenet56, dabnet
    width_mult: float = 1.0  # channel multiplier
    height: int = 192  # the generators' size: photos are scored where they are made
    width: int = 256
    epochs: int = 40  # the shipped segmenter's schedule (the 100-epoch pilot gained about 0.025 more)
    batch_size: int = 8
    lr: float = 5e-4
    weight_decay: float = 2e-4
    poly_power: float = 0.9  # lr = lr * (1 - epoch / epochs) ** power
    scale_min: float = 0.75  # random rescale of the train photo around the eval size, then a random crop
    scale_max: float = 1.5
    jitter: float = 0.15  # brightness/contrast jitter amplitude
    class_weight_c: float = 1.02  # ENet's class weights 1 / ln(c + p_class)
    seed: int = 0
    threads: int = 1
    max_images: int = 0  # 0: the whole split; tests use a few


class SegmenterData:
    """Train photos kept at full resolution (scaled per batch), val photos at the eval size."""

    def __init__(self, cfg: SegmenterConfig, root=None):
        train_report, val_report = check_dataset(camvid(root, "train")), check_dataset(camvid(root, "val"))
        for r in (train_report, val_report):
            if not r.ok:
                raise ValueError(f"{r.summary()}: {r.problems[0].message} (run `check` for every problem)")
        self.classes = train_report.spec.classes
        n = cfg.max_images or None
        sizes = {photo_size(p) for p, _ in train_report.pairs[:n]}
        if len(sizes) != 1:
            raise ValueError(f"{train_report.spec.photos}: train photos must share one size, found {sorted(sizes)}")
        full_w, full_h = sizes.pop()
        self.train = PairedDataset(train_report.spec, train_report.pairs[:n], full_h, full_w)
        self.val = PairedDataset(val_report.spec, val_report.pairs[:n], cfg.height, cfg.width)
        self.train.preload()
        self.val.preload()
        self.base_scale = cfg.height / full_h

    def to(self, device: torch.device) -> None:
        """Keeps the preloaded photos and label maps on `device`: batches and augmentation are made there."""
        for d in (self.train, self.val):
            d.photos, d.labels = d.photos.to(device), d.labels.to(device)


def photo_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def class_weights(labels: torch.Tensor, num_classes: int, dontcare: int | None, c: float) -> torch.Tensor:
    counts = torch.bincount(labels.flatten().long(), minlength=num_classes)[:num_classes].double()
    if dontcare is not None:
        counts[dontcare] = 0
    p = counts / counts.sum().clamp(min=1)
    w = 1.0 / torch.log(c + p)
    if dontcare is not None:
        w[dontcare] = 0
    return w.float()


def augment(photos, labels, cfg: SegmenterConfig, base_scale: float, dontcare: int, gen: torch.Generator):
    """Per sample: random scale, random crop (void-padded) to the eval size, horizontal flip, jitter."""
    out_p, out_l = [], []
    for photo, label in zip(photos, labels):
        s = base_scale * (cfg.scale_min + (cfg.scale_max - cfg.scale_min) * torch.rand(1, generator=gen).item())
        h, w = max(round(photo.shape[1] * s), 1), max(round(photo.shape[2] * s), 1)
        p = F.interpolate(photo[None].float(), (h, w), mode="bilinear", antialias=True, align_corners=False)[0]
        lab = F.interpolate(label[None, None].float(), (h, w), mode="nearest")[0, 0].long()
        ph, pw = max(cfg.height - h, 0), max(cfg.width - w, 0)
        if ph or pw:
            p = F.pad(p, (0, pw, 0, ph), value=127.5)
            lab = F.pad(lab, (0, pw, 0, ph), value=dontcare)
        y = torch.randint(0, p.shape[1] - cfg.height + 1, (1,), generator=gen).item()
        x = torch.randint(0, p.shape[2] - cfg.width + 1, (1,), generator=gen).item()
        p, lab = p[:, y : y + cfg.height, x : x + cfg.width], lab[y : y + cfg.height, x : x + cfg.width]
        if torch.rand(1, generator=gen).item() < 0.5:
            p, lab = p.flip(-1), lab.flip(-1)
        contrast, brightness = (cfg.jitter * (2 * torch.rand(2, generator=gen) - 1)).tolist()
        p = ((p - 127.5) * (1 + contrast) + 127.5 + 127.5 * brightness).clamp(0, 255)
        out_p.append(p)
        out_l.append(lab)
    return torch.stack(out_p) / 127.5 - 1.0, torch.stack(out_l)


@torch.no_grad()
def validate(net, data: PairedDataset, num_classes: int, dontcare, batch_size: int = 16):
    net.eval()
    meter = ConfusionMeter(num_classes, dontcare)
    for i in range(0, len(data), batch_size):
        idx = torch.arange(i, min(i + batch_size, len(data)))
        photos, labels = data.batch(idx)
        pred = net(to_model_range(photos)).argmax(1)
        meter.add(labels.cpu().numpy(), pred.cpu().numpy())
    net.train()
    return meter


def lr_at(cfg: SegmenterConfig, epoch: float) -> float:
    return cfg.lr * max(1 - epoch / cfg.epochs, 0.0) ** cfg.poly_power


def training_device(device: str) -> torch.device:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu or cuda, got {device!r}")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda: no CUDA GPU is available")
        torch.backends.cudnn.benchmark = True  # one input size throughout: let cuDNN pick its fastest kernels
    return torch.device(device)


def train_segmenter(
    cfg: SegmenterConfig, out: Path, root=None, restart: bool = False, device: str = "cpu", until: int | None = None
) -> dict:
    """Trains until cfg.epochs, or stops after epoch `until` (continuing from out/last.pt when there is one) on
    `device`; returns the best val scores. The checkpoints load on a CPU whatever trained them."""
    out = Path(out)
    dev = training_device(device)
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    data = SegmenterData(cfg, root)
    data.to(dev)
    classes = data.classes
    net = build_segmenter(cfg.architecture, len(classes), cfg.height, cfg.width, cfg.width_mult)
    net = net.to(dev, memory_format=torch.channels_last)  # faster convolutions on a CPU
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    weights = class_weights(data.train.labels, len(classes), classes.dontcare, cfg.class_weight_c)
    gen = torch.Generator().manual_seed(cfg.seed)
    epoch, best, history = 0, {"miou": -1.0}, []
    last = out / "last.pt"
    if last.exists() and not restart:
        ckpt = load(last)
        saved = ckpt["config"]
        for key in ("architecture", "width_mult", "height", "width"):
            if saved[key] != getattr(cfg, key):
                raise ValueError(
                    f"{last} was trained with {key}={saved[key]!r}, not {getattr(cfg, key)!r}; "
                    "use the same setting, another --out folder, or --restart"
                )
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["gen"])
        set_rng_state(ckpt["rng"])
        epoch, best, history = ckpt["epoch"], ckpt["best"], ckpt["history"]
        log.info("resuming %s at epoch %d (best val mIoU %.4f)", last, epoch, best["miou"])
    names = scored_names(classes.names, classes.dontcare)
    log_path = out / "log.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    n = len(data.train)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    end = min(cfg.epochs, until) if until is not None else cfg.epochs
    while epoch < end:
        t0, c0 = time.time(), time.process_time()
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(steps_per_epoch):
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, epoch + s / steps_per_epoch)
            idx = order[s * cfg.batch_size : (s + 1) * cfg.batch_size]
            photos, labels = data.train.batch(idx)
            x, y = augment(photos, labels, cfg, data.base_scale, classes.dontcare, gen)
            logits = net(x.contiguous(memory_format=torch.channels_last))
            loss = F.cross_entropy(logits, y, weight=weights, ignore_index=classes.dontcare)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
        epoch += 1
        sc = validate(net, data.val, len(classes), classes.dontcare).scores()
        entry = {
            "epoch": epoch,
            "loss": total / steps_per_epoch,
            "val_miou": sc.miou,
            "val_pixel_accuracy": sc.pixel_accuracy,
            "lr": lr_at(cfg, epoch),
            "seconds": round(time.time() - t0, 1),
            "cpu_seconds": round(time.process_time() - c0, 1),  # this process's CPU time: the cost on a shared CPU
        }
        history.append(entry)
        scores = {"epoch": epoch, **sc.to_json(names)}  # these weights' own val scores, in every checkpoint
        state = {"model": net.state_dict(), "config": asdict(cfg), "classes": classes.file_json(), "train_images": n,
                 "scores": scores}  # fmt: skip
        if sc.miou > best["miou"]:
            best = scores
            save(out / "best.pt", {**state, "epoch": epoch, "best": best})
            with atomic_path(out / "best.json") as tmp:
                tmp.write_text(json.dumps(best, indent=2) + "\n")
        save(last, {**state, "optimizer": opt.state_dict(), "gen": gen.get_state(), "epoch": epoch,
                    "best": best, "history": history})  # fmt: skip
        with open(log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        log.info(
            "epoch %d/%d loss %.4f val mIoU %.4f pixel acc %.4f (best %.4f @ %d) %.0fs",
            epoch, cfg.epochs, entry["loss"], sc.miou, sc.pixel_accuracy, best["miou"], best["epoch"],
            entry["seconds"],
        )  # fmt: skip
    if epoch < cfg.epochs:
        log.info("stopped after epoch %d of %d (--until); run again to continue", epoch, cfg.epochs)
    return best
