"""Per-cell statistics over training seeds, and the rule that says which differences exceed the seed-to-seed
spread: the intervals mean +- 2 SE (SE = SD / sqrt(seeds)) of the two cells do not overlap. With 3 seeds this is a
screen, not a 95% test (a t interval with 2 degrees of freedom is +- 4.3 SE); the report says so."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Stat:
    n: int
    mean: float | None
    sd: float | None  # sample standard deviation (n - 1); None below 2 values

    @property
    def se(self) -> float | None:
        return None if self.sd is None else self.sd / math.sqrt(self.n)

    def interval(self, k: float = 2.0) -> tuple[float, float] | None:
        if self.mean is None or self.se is None:
            return None
        return self.mean - k * self.se, self.mean + k * self.se


def stat(values) -> Stat:
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return Stat(0, None, None)
    mean = sum(vals) / len(vals)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else None
    return Stat(len(vals), mean, sd)


def separated(a: Stat, b: Stat, k: float = 2.0) -> bool | None:
    """True when the mean +- k SE intervals do not overlap; None when either has fewer than 2 seeds."""
    ia, ib = a.interval(k), b.interval(k)
    if ia is None or ib is None:
        return None
    return ia[1] < ib[0] or ib[1] < ia[0]


def fmt_stat(s: Stat, digits: int = 3, scale: float = 1.0) -> str:
    if s.mean is None:
        return "n/a"
    text = f"{s.mean * scale:.{digits}f}"
    if s.sd is not None:
        text += f" ± {s.sd * scale:.{digits}f}"
    return text + (f" ({s.n})" if s.n else "")
