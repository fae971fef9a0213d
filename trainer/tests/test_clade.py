"""CLADE (`train --modulation clade`): the SPADE generator with a learned gamma/beta per class instead of SPADE's
modulation convolutions: shapes, sizes, identity at the start, gradients, training, export, old configs."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, data_args, read_events, train_args

from scenebrush_trainer.cli import main
from scenebrush_trainer.export.from_checkpoint import export_checkpoint
from scenebrush_trainer.export.from_onnx import read_meta
from scenebrush_trainer.networks import build_generator
from scenebrush_trainer.networks.complexity import count_macs, count_params
from scenebrush_trainer.networks.inference import inference_copy
from scenebrush_trainer.networks.layers import CLADENorm, OneHot, SPADENorm
from scenebrush_trainer.training import checkpoint
from scenebrush_trainer.training.config import ModelConfig, from_dict, model_config, validate

C = 12


def tiny(**kw):
    return model_config("tiny", height=64, width=96, **kw)


def labels(n=2, h=64, w=96, classes=C):
    return torch.randint(0, classes, (n, h, w), generator=torch.Generator().manual_seed(0))


def tolerance(onnx_path) -> float:
    """ONNX Runtime against PyTorch: the export check's 1e-4 for float32 weights; float16-stored weights (rounded to
    11 significant bits) move outputs by up to a few 1e-4, which the export checks against 1e-2."""
    weights = onnx.load(str(onnx_path)).graph.initializer
    return 1e-2 if any(t.data_type == onnx.TensorProto.FLOAT16 for t in weights) else 1e-4


def clade_norms(g) -> list[CLADENorm]:
    return [m for m in g.modules() if isinstance(m, CLADENorm)]


@pytest.mark.parametrize("z_dim", [0, 32])
def test_clade_generator_shapes_and_layers(z_dim):
    g = build_generator(tiny(modulation="clade", z_dim=z_dim), C)
    out = g(labels(), torch.randn(2, z_dim) if z_dim else None)
    assert out.shape == (2, 3, 64, 96) and out.abs().max() <= 1 and torch.isfinite(out).all()
    norms = clade_norms(g)
    assert len(norms) == 7 * 2 + 4  # two per block, and one per learned shortcut (the 4 up blocks halve widths)
    assert not any(isinstance(m, SPADENorm) for m in g.modules())
    assert all(m.gamma.shape == m.beta.shape == (m.norm.num_features, C, 1, 1) for m in norms)


def test_clade_parameter_and_mac_counts_match_the_architecture():
    ngf, nh, zd = 4, 8, 32
    spade = build_generator(tiny(ngf=ngf, nhidden=nh, z_dim=zd), C)
    clade = build_generator(tiny(modulation="clade", ngf=ngf, nhidden=nh, z_dim=zd), C)
    # (fin, fout, height, width) per block at 64x96: head 2x3, middle 4x6 (twice), then 8x12 ... 64x96
    blocks = [(16, 16, 2, 3), (16, 16, 4, 6), (16, 16, 4, 6), (16, 8, 8, 12), (8, 4, 16, 24), (4, 2, 32, 48),
              (2, 1, 64, 96)]  # fmt: skip
    norms = []  # (channels, height, width) of every modulated norm
    for fin, fout, h, w in blocks:
        norms += [(fin * ngf, h, w), (min(fin, fout) * ngf, h, w)] + ([(fin * ngf, h, w)] if fin != fout else [])
    spade_norm_params = sum((C * 9 * nh + nh) + 2 * (nh * 9 * ch + ch) for ch, _, _ in norms)
    assert count_params(spade) - count_params(clade) == spade_norm_params - sum(2 * ch * C for ch, _, _ in norms)
    # MACs: SPADE's shared 3x3 conv and gamma/beta 3x3 convs against CLADE's two 1x1 lookups, per pixel
    spade_norm_macs = sum(h * w * (C * 9 * nh + 2 * nh * 9 * ch) for ch, h, w in norms)
    clade_norm_macs = sum(h * w * 2 * ch * C for ch, h, w in norms)
    lab, z = labels(1), torch.zeros(1, zd)
    assert count_macs(spade, lab, z) - count_macs(clade, lab, z) == spade_norm_macs - clade_norm_macs
    assert count_macs(CLADENorm(4, C), torch.zeros(1, 4, 5, 5), torch.zeros(1, C, 5, 5)) == 2 * 4 * 25 * C


def test_clade_starts_with_the_papers_random_scale_per_class_and_no_shift():
    g = build_generator(tiny(modulation="clade"), C)  # init_weights must leave gamma and beta as CLADENorm set them
    for m in clade_norms(g):
        scale = 1 + m.gamma
        assert scale.min() >= 0 and scale.max() <= 1 and scale.std() > 0.2 and not m.beta.any()  # U[0, 1]
    layer = CLADENorm(5, C)
    x = torch.randn(2, 5, 8, 12)
    outside = OneHot(C)(torch.randint(C, C + 2, (2, 8, 12)))  # ids C, C+1: outside the classes, no modulation
    assert torch.equal(layer(x, outside), layer.norm(x))
    inside = OneHot(C)(torch.zeros(2, 8, 12, dtype=torch.long))  # class 0 everywhere: its scale per channel
    want = layer.norm(x) * (1 + layer.gamma[:, 0].view(1, 5, 1, 1))
    assert torch.allclose(layer(x, inside), want, atol=1e-6)


def test_clade_looks_up_gamma_and_beta_per_class():
    layer = CLADENorm(5, C)
    with torch.no_grad():
        layer.gamma.normal_()
        layer.beta.normal_()
    x, lab = torch.randn(2, 5, 16, 24), torch.randint(0, C + 1, (2, 8, 12))  # id C: no modulation
    got = layer(x, OneHot(C)(lab))  # the label map at half the resolution: resized nearest, as SPADENorm does
    lab = lab.repeat_interleave(2, 1).repeat_interleave(2, 2)
    gamma = F.pad(layer.gamma.detach().flatten(1), (0, 1))  # a zero column for id C
    beta = F.pad(layer.beta.detach().flatten(1), (0, 1))
    want = layer.norm(x) * (1 + gamma[:, lab].transpose(0, 1)) + beta[:, lab].transpose(0, 1)
    assert torch.allclose(got, want, atol=1e-6)


def test_gradient_reaches_the_per_class_parameters_of_the_classes_present():
    g = build_generator(tiny(modulation="clade"), C)
    # classes 0..5 only, in 32x32 blocks: each shows at every resolution down to the 2x3 of the first block
    label = torch.arange(6).view(1, 2, 3).repeat_interleave(32, 1).repeat_interleave(32, 2)
    g(label, torch.randn(1, 32)).square().mean().backward()
    for m in clade_norms(g):
        for p in (m.gamma, m.beta):
            present, absent = p.grad[:, :6].abs().sum(0).flatten(), p.grad[:, 6:]
            assert (present > 0).all() and not absent.any()


@pytest.fixture(scope="module")
def clade_run(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("clade")
    run, pkg, events = root / "run", root / "pkg", root / "run.jsonl"
    args = train_args(tiny_data, run, "--modulation", "clade", "--steps", "2", "--events", str(events),
                      "--export-to", str(pkg))  # fmt: skip
    assert main(args) == 0
    return run, pkg, read_events(events)


def test_train_modulation_clade_records_it_and_exports_a_package_that_matches_pytorch(clade_run):
    run, pkg, events = clade_run
    start = next(e for e in events if e["event"] == "start")
    assert start["model"]["modulation"] == "clade"
    exported = next(e for e in events if e["event"] == "exported")
    assert exported["max_abs_diff"]["model.onnx"] < tolerance(pkg / "model.onnx")
    ckpt = checkpoint.load(run / "checkpoint.pt")
    assert ckpt["model_config"]["modulation"] == "clade"
    meta = json.loads((pkg / "model.json").read_text())
    assert meta["architecture"] == "spade" and "CLADE" in meta["name"]  # the app sees a SPADE generator
    assert meta["training"]["config"]["modulation"] == "clade"

    model = from_dict(ModelConfig, ckpt["model_config"])
    G = build_generator(model, C)
    G.load_state_dict(ckpt["ema"] or ckpt["G"])
    assert any(m.gamma.any() for m in clade_norms(G))  # trained away from the start
    sess = ort.InferenceSession(str(pkg / "model.onnx"), providers=["CPUExecutionProvider"])
    label, z = labels(1, 64, 64), torch.randn(1, model.z_dim)
    got = sess.run(None, {"label": label.numpy(), "z": z.numpy()})[0]
    with torch.no_grad():
        want = inference_copy(G, meta["training"]["config"]["inference_norm"])(label, z).numpy()
    assert np.abs(got - want).max() < tolerance(pkg / "model.onnx")


def test_fine_tuning_keeps_clade(clade_run, tiny_data, tmp_path):
    run, _, _ = clade_run
    assert main(train_args(tiny_data, tmp_path / "ft", "--init-from", str(run), "--steps", "1",
                           "--events", str(tmp_path / "ft.jsonl"))) == 0  # fmt: skip
    assert checkpoint.load(tmp_path / "ft" / "checkpoint.pt")["model_config"]["modulation"] == "clade"


def test_recover_weights_reads_a_clade_package_back(clade_run, tiny_data, tmp_path, capsys):
    run, pkg, _ = clade_run
    code = main(["recover-weights", "--package", str(pkg), "--discriminator-from", str(run), "--out",
                 str(tmp_path / "rec"), *data_args(tiny_data), "--images", "4"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["max_abs_diff"] < 1e-3
    recovered, trained = checkpoint.load(tmp_path / "rec"), checkpoint.load(run / "checkpoint.pt")
    assert recovered["model_config"]["modulation"] == "clade"
    gammas = [k for k in trained["G"] if k.endswith(".gamma")]
    assert gammas and all(torch.allclose(recovered["G"][k], trained["G"][k], atol=1e-3) for k in gammas)


def test_configs_from_before_the_modulation_option_load_as_spade(tiny_data, tmp_path):
    assert from_dict(ModelConfig, {"generator": "spade", "ngf": 4}).modulation == "spade"
    # the option was briefly called `norm`: a checkpoint from then has `"norm": "spade"` and no `modulation`;
    # from_dict ignores keys it does not know, so it loads too, as spade
    assert from_dict(ModelConfig, {"generator": "spade", "norm": "spade", "ngf": 4}) == ModelConfig(ngf=4)
    shipped = json.loads((REPO / "models" / "camvid-spade" / "model.json").read_text())
    assert "modulation" not in shipped["training"]["config"]  # exported before the option existed
    assert read_meta(REPO / "models" / "camvid-spade")[1].modulation == "spade"
    # a checkpoint without the field exports as the SPADE generator it is
    run = tmp_path / "run"
    assert main(train_args(tiny_data, run, "--steps", "1", "--events", str(tmp_path / "run.jsonl"))) == 0
    ckpt = checkpoint.load(run / "checkpoint.pt")
    del ckpt["model_config"]["modulation"]
    for name, extra in (("old", {}), ("norm", {"norm": "spade"})):  # before the option; while it was `norm`
        ckpt["model_config"] = {k: v for k, v in ckpt["model_config"].items() if k != "norm"} | extra
        checkpoint.save(run / f"{name}.pt", ckpt)
        pkg = tmp_path / f"pkg-{name}"
        diff = export_checkpoint(run / f"{name}.pt", pkg, name)["max_abs_diff"]["model.onnx"]
        assert diff < tolerance(pkg / "model.onnx")
        config = json.loads((pkg / "model.json").read_text())["training"]["config"]
        assert config["modulation"] == "spade" and "norm" not in config


def test_bad_modulation_values_are_refused_clearly(tiny_data, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown modulation 'batch'; choose one of spade, clade"):
        validate(tiny(modulation="batch"))
    with pytest.raises(ValueError, match=r"unknown modulation 'batch'; choose one of spade, clade"):
        build_generator(tiny(modulation="batch"), C)
    with pytest.raises(ValueError, match=r"modulation 'clade' applies to the spade generator only, not 'ccfpse'"):
        validate(tiny(generator="ccfpse", modulation="clade"))
    with pytest.raises(SystemExit) as e:
        main(train_args(tiny_data, tmp_path / "r", "--steps", "1", "--modulation", "batch"))
    assert e.value.code == 2 and "argument --modulation: invalid choice: 'batch'" in capsys.readouterr().err
    out = tmp_path / "cc"
    assert main(train_args(tiny_data, out, "--steps", "1", "--generator", "ccfpse", "--modulation", "clade")) == 1
    assert "modulation 'clade' applies to the spade generator only" in capsys.readouterr().err
    assert not (out / "checkpoint.pt").exists()
