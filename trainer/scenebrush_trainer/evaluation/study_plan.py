"""The study of issue 12 as data: its budgets, its cells (generator x discriminator x training-set size, plus the
`beyond` group), the training seeds, and the order the runs are trained in."""

from dataclasses import dataclass, field, fields, replace

from ..training.config import TrainConfig

SEED_COMBOS = (("spade", "fp"), ("spade", "fpse"), ("ccfpse", "fp"), ("ccfpse", "fpse"))  # the seed's Table 1


@dataclass(frozen=True)
class Cell:
    generator: str
    discriminator: str
    size: int  # training pairs: the first `size` of one fixed permutation of the train split
    options: tuple[tuple[str, object], ...] = ()  # TrainConfig fields beyond the budget's, e.g. (("diffaug", "..."),)
    group: str = "seed"  # "seed": the seed's cells; "beyond": discriminators and augmentation the seed did not have
    tag: str = ""  # names the options in run names (else they are spelt out)

    @property
    def name(self) -> str:
        opts = "".join(f"-{k}" if v is True else f"-{k}-{str(v).replace(',', '+')}" for k, v in self.options)
        return f"{self.generator}-{self.discriminator}{'-' + self.tag if self.tag else opts}-{self.size}"


@dataclass(frozen=True)
class Run:
    cell: Cell
    seed: int  # training seed

    @property
    def name(self) -> str:
        return f"{self.cell.name}-s{self.seed}"


@dataclass(frozen=True)
class BeyondLine:
    """One line of the beyond group: trained at the budget's largest size with every training seed."""

    generator: str
    discriminator: str
    options: tuple[tuple[str, object], ...] = ()
    tag: str = ""


@dataclass(frozen=True)
class StudyBudget:
    name: str
    height: int
    width: int
    preset: str  # the trainer's model preset (network widths)
    steps: int  # per run, the same for every run
    segment: int  # steps between snapshots (and checkpoints): the learning curves' resolution
    sizes: tuple[int, ...]  # training-set sizes, nested
    seeds: tuple[int, ...]  # training seeds per cell
    beyond: tuple[BeyondLine, ...] = ()
    batch_size: int = 1
    threads: int = 1  # per runner process
    subset_seed: int = 0  # the permutation the nested subsets are cut from (not a training seed)
    log_every: int = 10
    sample_every: int = 500
    # scoring, sized by measured CPU costs (docs/evaluation.md): about 0.3 CPU-s an image for SPADE and 0.45 for
    # CC-FPSE (Inception 0.2 of it); 5 curve points x 40 pairs + 101 pairs at the end measured 155 CPU-s for a
    # SPADE run, about 2 CPU-hours for the 45 runs
    curve_images: int = 40  # val pairs per snapshot (evenly spaced over the split), z seed 0
    final_images: int = 0  # val pairs at the last step; 0 = the whole split
    final_seeds: tuple[int, ...] = (0,)

    def scoring(self) -> dict:
        """What a cached score must have been computed with to be reused."""
        return {"curve_images": self.curve_images, "final_images": self.final_images,
                "final_seeds": list(self.final_seeds), "steps": self.steps}  # fmt: skip

    note: str = ""
    combos: tuple[tuple[str, str], ...] = field(default=SEED_COMBOS)

    def snapshot_steps(self) -> list[int]:
        return sorted({*range(self.segment, self.steps + 1, self.segment), self.steps})


# The beyond group: one line each; a line whose discriminator or option the trainer does not have yet is skipped
# (with a log line) until the trainer has it. The DiffAugment line goes on the best discriminator of the lines
# above: OASIS until the study's results name another.
BEYOND = (
    BeyondLine("spade", "patchgan"),
    BeyondLine("spade", "oasis"),
    BeyondLine("spade", "oasis", (("diffaug", "color,translation,cutout"),), tag="diffaug"),
)

BUDGETS = {
    # issue 12: the 96x128 pilot (docs/ablation.md) sized 2500 steps a run for ~12 CPU-hours of seed cells
    "study-96x128": StudyBudget(
        "study-96x128", height=96, width=128, preset="small", steps=2500, segment=500, sizes=(100, 200, 367),
        seeds=(0, 1, 2), beyond=BEYOND,
        note="96x128, preset small, batch 1, 2500 steps, one thread per run; scored at 192x256 by upscaling",
    ),
    # plumbing: a few steps of the tiny preset on 2 and 4 pairs; numbers mean nothing
    "smoke": StudyBudget(
        "smoke", height=96, width=128, preset="tiny", steps=4, segment=2, sizes=(2, 4), seeds=(0, 1),
        beyond=BEYOND, log_every=1, sample_every=0, curve_images=3, final_images=4, final_seeds=(0, 1),
        note="plumbing check: numbers mean nothing",
    ),
}  # fmt: skip

# issue 16: is bf16 autocast (1.6-1.9x faster training on this CPU) as good as float32 at equal steps? The study's
# budget and scoring, one cell of the study (SPADE + PatchGAN at 367 pairs: its 3 float32 seeds have the smallest
# mIoU spread) trained in bf16 with the same 3 seeds; trainer/benchmarks/amp_quality.py compares the two.
BUDGETS["amp-check"] = replace(
    BUDGETS["study-96x128"], name="amp-check", sizes=(367,), combos=(),
    beyond=(BeyondLine("spade", "patchgan", (("amp", "bf16"),), tag="bf16"),),
    note="study-96x128's budget and scoring; SPADE + PatchGAN at 367 pairs in bf16 autocast",
)  # fmt: skip


def cells(budget: StudyBudget) -> list[Cell]:
    seed_cells = [Cell(g, d, size) for size in budget.sizes for g, d in budget.combos]
    largest = max(budget.sizes)
    beyond = [Cell(b.generator, b.discriminator, largest, b.options, "beyond", b.tag) for b in budget.beyond]
    return seed_cells + beyond


def ordered_runs(budget: StudyBudget, only: tuple[str, ...] = ()) -> list[Run]:
    """The order that makes partial results mean something early: the largest size first, the seed's cells and
    the beyond group together, seed by seed (so the first wave, one run of every cell at that size, already
    compares every discriminator and the recipe choice; SPADE's before CC-FPSE's), then the smallest size, then
    the rest in increasing order. `only`: cell names to keep (an unknown name is an error that lists the cells)."""
    wanted = {find_cell(budget, name).name for name in only}
    largest = max(budget.sizes)
    size_order = [largest, *sorted(s for s in budget.sizes if s != largest)]
    # beyond cells are at the largest size; within a size SPADE's cells go first: its runs take about 0.6 of
    # CC-FPSE's CPU time (0.27 against 0.47 CPU-h in the first study), so every discriminator's answer comes sooner
    groups = [
        sorted((c for c in cells(budget) if c.size == s), key=lambda c: c.generator != "spade") for s in size_order
    ]
    runs = [Run(cell, seed) for group in groups for seed in budget.seeds for cell in group]
    return [r for r in runs if not wanted or r.cell.name in wanted]


def missing_feature(cell: Cell) -> str | None:
    """Why this trainer cannot train the cell yet, or None."""
    from ..networks import DISCRIMINATORS, GENERATORS  # late: the plan stays importable without torch

    if cell.generator not in GENERATORS:
        return f"generator {cell.generator!r} is not in this trainer (it has {', '.join(GENERATORS)})"
    if cell.discriminator not in DISCRIMINATORS:
        return f"discriminator {cell.discriminator!r} is not in this trainer yet (it has {', '.join(DISCRIMINATORS)})"
    names = {f.name for f in fields(TrainConfig)}
    for key, _ in cell.options:
        if key not in names:
            return f"training option {key!r} is not in this trainer yet (TrainConfig has no such field)"
    return None


def find_cell(budget: StudyBudget, name: str) -> Cell:
    for c in cells(budget):
        if c.name == name:
            return c
    known = ", ".join(c.name for c in cells(budget))
    raise ValueError(f"unknown cell {name!r} in budget {budget.name}; its cells are: {known}")
