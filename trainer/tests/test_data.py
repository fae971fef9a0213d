"""The dataset check: every kind of bad input is reported with its file, and training refuses to start."""

import json
import shutil

import numpy as np
import pytest
from conftest import data_args, read_events, step_losses, train_args, write_camvid_pairs, write_pairs
from PIL import Image

from scenebrush_trainer.cli import main
from scenebrush_trainer.data.check import check_dataset
from scenebrush_trainer.data.classes import ClassListError, load_class_list
from scenebrush_trainer.data.dataset import PairedDataset
from scenebrush_trainer.data.presets import coco_stuff, dataset_spec, folders


@pytest.fixture
def data(tmp_path):
    return write_pairs(tmp_path / "d", count=3)


def spec(root):
    return folders(root / "photos", root / "labels", root / "classes.json")


def first(root, folder):
    return sorted((root / folder).iterdir())[0]


def only_problem(root, kind):
    report = check_dataset(spec(root))
    assert not report.ok
    assert [p.kind for p in report.problems] == [kind], report.problems
    return report.problems[0]


def test_real_camvid_pairs_pass_the_check_and_train(tmp_path):
    """The one test on real CamVid (skipped, saying why, where ../shared/data/camvid or $SCENEBRUSH_CAMVID is
    absent): its label maps use the class ids our class list expects, and a step trains on them."""
    root = write_camvid_pairs(tmp_path / "camvid", count=4)
    report = check_dataset(spec(root))
    assert report.ok and len(report.pairs) == 4, report.problems
    assert (report.class_pixels[:11] > 0).sum() >= 5  # a street scene: several of the 11 classes, not one
    events = tmp_path / "ev.jsonl"
    assert main(train_args(root, tmp_path / "run", "--steps", "1", "--events", str(events))) == 0
    assert sorted(step_losses(read_events(events))) == [1]


def test_clean_data_passes(data):
    report = check_dataset(spec(data))
    assert report.ok and len(report.pairs) == 3 and report.class_pixels.sum() == 3 * 64 * 64


def test_unpaired_photo(data):
    extra = data / "photos" / "lonely.png"
    shutil.copy(first(data, "photos"), extra)
    p = only_problem(data, "unpaired_photo")
    assert "lonely.png" in p.message and p.path == str(extra)


def test_unpaired_label(data):
    shutil.copy(first(data, "labels"), data / "labels" / "orphan.png")
    assert "orphan.png" in only_problem(data, "unpaired_label").message


def test_unreadable_photo(data):
    photo = first(data, "photos")
    photo.write_bytes(b"not an image at all")
    p = only_problem(data, "unreadable")
    assert photo.name in p.message


def test_truncated_label(data):
    label = first(data, "labels")
    label.write_bytes(label.read_bytes()[:60])
    assert label.name in only_problem(data, "unreadable").message


def test_size_mismatch(data):
    photo = first(data, "photos")
    Image.open(photo).resize((50, 40)).save(photo)
    p = only_problem(data, "size_mismatch")
    assert photo.name in p.message and "50x40" in p.message and "64x64" in p.message


def test_label_values_outside_the_class_list(data):
    label = first(data, "labels")
    arr = np.array(Image.open(label))
    arr[0, :3] = [12, 200, 12]
    Image.fromarray(arr).save(label)
    p = only_problem(data, "bad_label_values")
    assert label.name in p.message and "12, 200" in p.message and "0..11" in p.message


def test_rgb_label_map(data):
    label = first(data, "labels")
    Image.open(label).convert("RGB").save(label)
    p = only_problem(data, "label_not_ids")
    assert label.name in p.message and "RGB" in p.message


def test_missing_folder(tmp_path):
    s = folders(tmp_path / "nope", tmp_path / "nada", write_pairs(tmp_path / "d") / "classes.json")
    report = check_dataset(s)
    assert {p.kind for p in report.problems} == {"missing_folder"} and "nope" in report.problems[0].message


def test_every_problem_is_reported_at_once(data):
    shutil.copy(first(data, "photos"), data / "photos" / "lonely.png")
    first(data, "labels").write_bytes(b"junk")
    kinds = sorted(p.kind for p in check_dataset(spec(data)).problems)
    assert kinds == ["unpaired_photo", "unreadable"]


def test_training_refuses_to_start_and_check_command_fails(data, tmp_path, capsys):
    label = first(data, "labels")
    arr = np.array(Image.open(label))
    arr[5, 5] = 42
    Image.fromarray(arr).save(label)
    events = tmp_path / "ev.jsonl"
    assert main(train_args(data, tmp_path / "run", "--steps", "2", "--events", str(events))) == 1
    ev = read_events(events)
    check = next(e for e in ev if e["event"] == "check")
    assert not check["ok"] and check["problems"][0]["kind"] == "bad_label_values"
    assert label.name in check["problems"][0]["message"]
    assert ev[-1]["event"] == "error" and not any(e["event"] == "start" for e in ev)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()
    capsys.readouterr()
    assert main(["check", *data_args(data)]) == 1
    out = capsys.readouterr().out
    assert "bad_label_values" in out and label.name in out and "42" in out


def test_class_list_errors_name_the_file_and_the_fault(tmp_path):
    bad = tmp_path / "classes.json"
    bad.write_text(json.dumps([{"id": 0, "name": "a", "color": [0, 0, 0]}, {"id": 2, "name": "b", "color": [1, 1, 1]}]))
    with pytest.raises(ClassListError, match=r"classes.json.*0..1 without gaps"):
        load_class_list(bad)
    bad.write_text("{nope")
    with pytest.raises(ClassListError, match="cannot read class list"):
        load_class_list(bad)
    bad.write_text(json.dumps([{"id": 0, "name": "a", "color": [0, 0, 0], "dontcare": True}]))
    assert load_class_list(bad).dontcare == 0


def test_own_data_needs_all_three_paths():
    with pytest.raises(ValueError, match="--labels, --classes"):
        dataset_spec(photos="x")


def test_coco_stuff_samples_load_with_255_as_dontcare():
    s = coco_stuff()
    if not s.photos.is_dir():
        pytest.skip(f"COCO-Stuff samples not found at {s.photos}")
    assert len(s.classes) == 183 and s.classes.dontcare == 182 and s.classes.names[0] == "person"
    report = check_dataset(s)
    assert report.ok, report.problems
    assert report.class_pixels[182] > 0  # raw 255 counted as don't care
    raw = np.concatenate([np.array(Image.open(lab)).ravel() for _, lab in report.pairs])
    assert (raw == 255).sum() == report.class_pixels[182]
    ds = PairedDataset(s, report.pairs, 64, 64)
    photo, label = ds[0]
    assert photo.shape == (3, 64, 64) and label.shape == (64, 64)
    assert label.max() <= 182 and (label == 182).any()


def test_preload_matches_loading_on_demand(data):
    report = check_dataset(spec(data))
    ds = PairedDataset(report.spec, report.pairs, 32, 32)
    lazy = [ds[i] for i in range(len(ds))]
    ds.preload()
    for i, (photo, label) in enumerate(lazy):
        assert np.array_equal(ds[i][0], photo) and np.array_equal(ds[i][1].long(), label)


def test_duplicate_names_in_a_folder(data):
    photo = first(data, "photos")
    Image.open(photo).save(photo.with_suffix(".jpg"))
    p = only_problem(data, "duplicate")
    assert photo.stem in p.message
