"""`carry`: a training run made small enough to commit (float16 weights, G from its EMA, no optimiser state), or
a carried run put back into a run folder; `train --out FOLDER --resume` then continues it at its step.

  python -m scenebrush_trainer carry runs/long/RUN --to carried/RUN     # end of a session: commit carried/RUN
  python -m scenebrush_trainer carry carried/RUN --to runs/long/RUN     # a fresh machine: then train --resume
"""

import json
from pathlib import Path

from ..training.carry import carry_run

NAME = "carry"
HELP = "a training run's checkpoint in a form small enough to commit (and back), to resume on another machine"


def add_arguments(p) -> None:
    p.add_argument("source", type=Path, metavar="RUN", help="run folder (or its checkpoint.pt) to carry")
    p.add_argument("--to", required=True, type=Path, help="folder for the carried checkpoint.pt and scalars.csv")


def run(args) -> int:
    print(json.dumps({"event": "carried", "from": str(args.source), **carry_run(args.source, args.to)}))
    return 0
