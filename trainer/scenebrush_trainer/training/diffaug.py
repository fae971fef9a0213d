"""DiffAugment (Zhao et al., NeurIPS 2020) for a conditional discriminator: colour (brightness, saturation,
contrast), translation by up to 1/8 of the size, cutout of a half-size rectangle, on every image D sees, as
differentiable tensor ops so that G's gradients pass through.

The label map that conditions D (or that OASIS's D must predict) moves with the image: a translation shifts
both by the same offset (pixels brought in from outside are 0 in the image and losses.IGNORE in the labels, which
one-hot encodes to no class and no OASIS loss counts). Colour and cutout leave the labels as they are: a cut-out
region keeps its class, an occlusion D has to see through, rather than a hole in the layout it is given.

Each layout draws one set of parameters, used for its real photo and all its fakes alike. The expectation of
each adversarial term over the augmentations is the reference's (which draws per image); sharing keeps feature
matching and LabelMix comparing pixel-aligned images."""

import torch
import torch.nn.functional as F

from ..losses import IGNORE

POLICIES = ("color", "translation", "cutout")
OFF = "off"


def parse_policy(text: str) -> str:
    """'color,translation,cutout' (any subset, in the order to apply) -> the same, normalised; 'off' -> 'off'."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or names == [OFF]:
        return OFF
    unknown = [name for name in names if name not in POLICIES]
    if unknown or len(set(names)) != len(names):
        what = f"unknown {', '.join(map(repr, unknown))}" if unknown else "a name given twice"
        raise ValueError(
            f"{what} in {text!r}: use {OFF} or a comma-separated list of {', '.join(POLICIES)} "
            f"(e.g. {','.join(POLICIES)})"
        )
    return ",".join(names)


def augment(images: torch.Tensor, labels: torch.Tensor, policy: str, layouts: int, generator: torch.Generator | None):
    """images [m, 3, H, W] in [-1, 1] and labels [m, H, W], row i showing layout i % layouts (fakes, then reals);
    returns both augmented. Draws come from `generator` (CPU), so a step's augmentation follows from its seed."""
    for name in policy.split(","):
        images, labels = OPS[name](images, labels, layouts, generator)
    return images, labels


def per_layout(values: torch.Tensor, rows: int, layouts: int, device) -> torch.Tensor:
    return values[torch.arange(rows) % layouts].to(device)


def color(x, labels, layouts, g):
    def draw():
        return per_layout(torch.rand(layouts, generator=g), len(x), layouts, x.device).to(x.dtype).view(-1, 1, 1, 1)

    x = x + (draw() - 0.5)  # brightness
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (draw() * 2) + mean  # saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * (draw() + 0.5) + mean  # contrast
    return x, labels


def translation(x, labels, layouts, g, ratio: float = 1 / 8):
    m, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = per_layout(torch.randint(-sy, sy + 1, (layouts,), generator=g), m, layouts, x.device)
    dx = per_layout(torch.randint(-sx, sx + 1, (layouts,), generator=g), m, layouts, x.device)
    return shift(x, dy, dx, 0.0), shift(labels.unsqueeze(1), dy, dx, IGNORE).squeeze(1)


def shift(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, fill) -> torch.Tensor:
    """out[i, :, y, x] = x[i, :, y + dy[i], x + dx[i]], `fill` where that falls outside."""
    m, c, h, w = x.shape
    padded = F.pad(x, (1, 1, 1, 1), value=fill)  # indices outside land on the border of fill
    rows = (torch.arange(h, device=x.device).view(1, h) + dy.view(m, 1) + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, w) + dx.view(m, 1) + 1).clamp(0, w + 1)
    out = padded.gather(2, rows.view(m, 1, h, 1).expand(m, c, h, w + 2))
    return out.gather(3, cols.view(m, 1, 1, w).expand(m, c, h, w))


def cutout(x, labels, layouts, g, ratio: float = 1 / 2):
    m, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    # centres as the reference draws them; the rectangle is clipped to the image
    cy = per_layout(torch.randint(0, h + (1 - ch % 2), (layouts,), generator=g), m, layouts, x.device)
    cx = per_layout(torch.randint(0, w + (1 - cw % 2), (layouts,), generator=g), m, layouts, x.device)
    ys = torch.arange(h, device=x.device).view(1, h) - (cy.view(m, 1) - ch // 2)
    xs = torch.arange(w, device=x.device).view(1, w) - (cx.view(m, 1) - cw // 2)
    inside = ((ys >= 0) & (ys < ch)).view(m, 1, h, 1) & ((xs >= 0) & (xs < cw)).view(m, 1, 1, w)
    return x * (~inside).to(x.dtype), labels


OPS = {"color": color, "translation": translation, "cutout": cutout}
