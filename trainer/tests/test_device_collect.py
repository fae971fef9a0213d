"""scripts/device/collect.py, what a lent GPU's call brings back: a run's weights as gzipped pieces under the
device tool's limits, which join into the fine-tune checkpoint `train --init-from` reads."""

import gzip
import json
import sys

from conftest import REPO

from scenebrush_trainer.cli import main
from scenebrush_trainer.evaluation.fixtures import tiny_camvid
from scenebrush_trainer.training import checkpoint

sys.path.insert(0, str(REPO / "scripts" / "device"))  # the scripts import their neighbours by name
import collect  # noqa: E402


def test_collect_brings_back_a_runs_weights_in_pieces_that_join_into_a_finetune_checkpoint(tmp_path):
    data = tiny_camvid(tmp_path / "camvid", train=2, val=1, height=64, width=64, real=False)
    work, out = tmp_path / "work", tmp_path / "out"
    args = ["train", "--dataset", "camvid", "--data", str(data), "--preset", "tiny", "--height", "64", "--width",
            "64", "--steps", "1", "--sample-every", "0", "--threads", "1", "--encoder", "--style-norms",
            "--out", str(work / "spade")]  # fmt: skip
    assert main(args) == 0
    assert collect.main(["--work", str(work), "--out", str(out), "--gan", "spade", "--segmenter"]) == 0

    record = json.loads((out / "record.json").read_text())
    assert record["limits"]["ok"], record["limits"]
    pieces = record["weights"]["spade"]["pieces"]
    joined = tmp_path / "spade.pt"
    joined.write_bytes(gzip.decompress(b"".join((out / p).read_bytes() for p in sorted(pieces))))
    ckpt = checkpoint.load(joined)
    assert ckpt["weights_only"] and ckpt["step"] == 1 and ckpt["model_config"]["style_norms"]
    assert ckpt["data"]["photos"] == ""  # no paths of the machine it was trained on
