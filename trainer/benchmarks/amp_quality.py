"""Benchmark: does bf16 autocast (`train --amp bf16`) train as well as float32 at equal steps? Compares the scored
runs of the `amp-check` budget (SPADE + PatchGAN, 367 pairs, bf16, training seeds 0-2) with the same cell of the
study (float32, same seeds, same budget, same ruler), seed by seed and as mean +- SD, at every snapshot and at the
end. bf16 passes when it is no worse beyond the seed-to-seed spread: its mean final mIoU at least the float32 mean
minus 2 SD, its mean KID and FID at most the float32 mean plus 2 SD (better beyond 2 SD is reported, not refused).
Speed is not measured here (the runs saw different machine loads): train_speed.py
--amp off / bf16 in one run is the speed figure.

    T="env PYTHONPATH=trainer OMP_NUM_THREADS=1 .venv/bin/python -m scenebrush_trainer"
    $T study train --budget amp-check --work runs/amp-check --threads 1        # ~15 CPU-min a run on this CPU
    $T study score --budget amp-check --work runs/amp-check --threads 2
    PYTHONPATH=trainer .venv/bin/python trainer/benchmarks/amp_quality.py --bf16 runs/amp-check \\
        --float32 docs/ablation/study-96x128/state
"""

import argparse
import json
from pathlib import Path

from scenebrush_trainer.evaluation.study_plan import BUDGETS, Run, cells
from scenebrush_trainer.evaluation.study_score import read_scores
from scenebrush_trainer.evaluation.study_stats import stat
from scenebrush_trainer.evaluation.study_train import read_run_json, run_dir

METRICS = ("miou", "kid", "fid")


def runs_of(budget_name: str, cell_name: str) -> list[Run]:
    budget = BUDGETS[budget_name]
    cell = next(c for c in cells(budget) if c.name == cell_name)
    return [Run(cell, seed) for seed in budget.seeds]


def finals(work: Path, runs: list[Run], steps: int) -> dict[int, dict]:
    """seed -> {final metrics, curve (step -> mIoU), cpu_seconds} of every run scored at its last step."""
    out = {}
    for run in runs:
        folder = run_dir(work, run)
        scores = read_scores(folder)
        if steps in scores and "final" in scores[steps]:
            out[run.seed] = {
                **{k: scores[steps]["final"][k] for k in METRICS},
                "curve": {s: round(e["curve"]["miou"], 4) for s, e in sorted(scores.items())},
                "cpu_seconds": read_run_json(folder).get("cpu_seconds"),
            }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bf16", type=Path, default=Path("runs/amp-check"), help="work folder of the amp-check budget")
    p.add_argument("--float32", type=Path, default=Path("docs/ablation/study-96x128/state"),
                   help="work folder holding the study's runs (default: the carried state)")  # fmt: skip
    p.add_argument("--json", type=Path, help="also write the comparison here")
    args = p.parse_args()
    steps = BUDGETS["amp-check"].steps
    bf16 = finals(args.bf16, runs_of("amp-check", "spade-patchgan-bf16-367"), steps)
    fp32 = finals(args.float32, runs_of("study-96x128", "spade-patchgan-367"), steps)
    if not bf16 or len(fp32) < 2:
        raise SystemExit(f"need scored runs: {len(bf16)} bf16 in {args.bf16}, {len(fp32)} float32 in {args.float32}")
    print("| seed | float32 mIoU / KID / FID | bf16 mIoU / KID / FID | CPU-s float32 / bf16 |")
    print("|---|---|---|---|")
    for seed in sorted(set(bf16) | set(fp32)):
        cols = [" / ".join(f"{r[k]:.3f}" if k != "fid" else f"{r[k]:.1f}" for k in METRICS) if r else "-"
                for r in (fp32.get(seed), bf16.get(seed))]  # fmt: skip
        cpu = " / ".join(str((r or {}).get("cpu_seconds", "-")) for r in (fp32.get(seed), bf16.get(seed)))
        print(f"| {seed} | {cols[0]} | {cols[1]} | {cpu} |")
    verdict = {}
    for k in METRICS:
        a, b = stat(r[k] for r in fp32.values()), stat(r[k] for r in bf16.values())
        (m32, sd32), (m16, sd16) = (a.mean, a.sd), (b.mean, b.sd if b.sd is not None else float("nan"))
        better = m16 - m32 if k == "miou" else m32 - m16  # > 0: bf16 better
        side = "within" if abs(better) <= 2 * sd32 else ("better than" if better > 0 else "WORSE than")
        verdict[k] = {"float32": [m32, sd32], "bf16": [m16, sd16], "no_worse": better >= -2 * sd32, "side": side}
        print(f"{k}: float32 {m32:.4f} +- {sd32:.4f} ({len(fp32)} seeds), bf16 {m16:.4f} +- {sd16:.4f} "
              f"({len(bf16)} seeds): {side} 2 SD of float32")  # fmt: skip
    for name, runs in (("float32", fp32), ("bf16", bf16)):
        for seed, r in sorted(runs.items()):
            print(f"curve mIoU {name} seed {seed}: {r['curve']}")
    passed = all(v["no_worse"] for v in verdict.values())
    print(f"bf16 {'passes' if passed else 'fails'} the gate ({len(bf16)} bf16 seeds scored)")
    if args.json:
        args.json.write_text(json.dumps({"bf16": bf16, "float32": fp32, "verdict": verdict, "passed": passed},
                                        indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
