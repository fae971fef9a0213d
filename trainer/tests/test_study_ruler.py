"""The study's ruler: each score names the segmenter that made it (id, architecture, graph hash); a score by
another segmenter is not reused, and a report never puts two segmenters' scores in one table."""

import json
from dataclasses import replace

import pytest

from scenebrush_trainer.evaluation.study_plan import BUDGETS
from scenebrush_trainer.evaluation.study_report import one_segmenter
from scenebrush_trainer.evaluation.study_score import is_cached, segmenter_identity

BUDGET = replace(BUDGETS["smoke"], height=64, width=64)


def package(folder, arch: str, graph: bytes):
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"id": "camvid-segmenter", "architecture": arch}))
    (folder / "model.onnx").write_bytes(graph)
    return folder


def test_two_segmenters_with_one_id_are_told_apart_by_their_graph(tmp_path):
    enet = segmenter_identity(package(tmp_path / "enet", "enet", b"graph one"))
    dab = segmenter_identity(package(tmp_path / "dab", "dabnet", b"graph two"))
    assert enet["id"] == dab["id"] == "camvid-segmenter" and enet["onnx_sha256"] != dab["onnx_sha256"]
    assert (enet["architecture"], dab["architecture"]) == ("enet", "dabnet")
    with pytest.raises(ValueError, match=r"segmenter package .*nowhere.*--segmenter"):
        segmenter_identity(tmp_path / "nowhere")


def test_a_score_by_another_segmenter_is_made_again(tmp_path):
    enet = segmenter_identity(package(tmp_path / "enet", "enet", b"graph one"))
    dab = segmenter_identity(package(tmp_path / "dab", "dabnet", b"graph two"))
    target = tmp_path / "step-000002.json"
    target.write_text(json.dumps({"scoring": BUDGET.scoring(), "segmenter": enet}))
    assert is_cached(target, BUDGET, enet) and not is_cached(target, BUDGET, dab)
    target.write_text(json.dumps({"scoring": BUDGET.scoring()}))  # from before scores named their segmenter
    assert not is_cached(target, BUDGET, enet)


def test_a_report_refuses_scores_from_two_segmenters(tmp_path):
    enet = {"id": "camvid-segmenter", "architecture": "enet", "onnx_sha256": "aaaa"}
    dab = {"id": "camvid-segmenter", "architecture": "dabnet", "onnx_sha256": "bbbb"}
    rows = [{"name": "spade-fp-4-s0", "segmenters": {500: enet, 1000: enet}},
            {"name": "ccfpse-fp-4-s0", "segmenters": {500: dab}}]  # fmt: skip
    with pytest.raises(
        ValueError,
        match=r"2 segmenters \(enet aaaa: spade-fp-4-s0@500, spade-fp-4-s0@1000 \(2\); "
        r"dabnet bbbb: ccfpse-fp-4-s0@500 \(1\)\).*study score --segmenter",
    ):
        one_segmenter(rows)
    assert one_segmenter(rows[:1]) == enet
    assert one_segmenter([{"name": "x", "segmenters": {}}]) is None
