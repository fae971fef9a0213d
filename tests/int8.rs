//! Int8 variants of generator packages (`variants.int8` in model.json, `model-int8.onnx`): which
//! graph runs with each precision, the fall back to model.onnx with a note when the variant is
//! broken, the GUI's setting and `--precision` on the command line. The fixture package
//! (tests/fixtures/int8-models) is quantized by the trainer's `quantize_package`.
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command as Cmd;
use common::{copy_package, read_f32_le, repo_dir, runtime};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use ndarray::Array2;
use predicates::prelude::*;
use scenebrush::inference::{Generator, ProviderPreference, check_int8_variant, check_package};
use scenebrush::io::load_label_png;
use scenebrush::models::{GraphUsed, Int8Variant, ModelPackage, ModelRegistry, Precision};
use scenebrush::ui::{AppArgs, AppState, SceneBrushApp, USE_INT8};

const INT8: &str = "fixture-spade-int8-untrained";
const RENDER_TIMEOUT: Duration = Duration::from_secs(180);

fn int8_dir() -> PathBuf {
    repo_dir().join("tests/fixtures/int8-models")
}

fn int8_package() -> ModelPackage {
    ModelPackage::load(&int8_dir().join(INT8))
        .unwrap_or_else(|e| panic!("the int8 fixture is missing or broken ({e})"))
}

/// A copy of the int8 fixture in a temporary folder, changed by `edit`.
fn broken_copy(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(INT8);
    copy_package(&int8_dir().join(INT8), &dir);
    edit(&dir);
    (tmp, dir)
}

fn truncate_int8(dir: &Path) {
    let path = dir.join("model-int8.onnx");
    let bytes = std::fs::read(&path).expect("read model-int8.onnx");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
}

fn set_int8_file(dir: &Path, file: &str) {
    let path = dir.join("model.json");
    let text = std::fs::read_to_string(&path).expect("read model.json");
    let mut meta: serde_json::Value = serde_json::from_str(&text).expect("json");
    meta["variants"]["int8"]["file"] = file.into();
    std::fs::write(&path, meta.to_string()).expect("write model.json");
}

/// The fixture's reference layout and z, and the raw output of `generator` for them.
fn reference_output(generator: &mut Generator, package: &ModelPackage) -> Vec<f32> {
    let meta = &package.meta;
    let labels = load_label_png(
        &package.dir.join("reference_label.png"),
        &meta.classes,
        meta.dontcare,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let z = read_f32_le(&package.dir.join("reference_z.f32"));
    let z = Array2::from_shape_vec((1, meta.z_dim), z).expect("z shape");
    generator
        .infer(&labels, z.view())
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .copied()
        .collect()
}

/// (mean, max) of |a - b|.
fn diff(a: &[f32], b: &[f32]) -> (f32, f32) {
    assert_eq!(a.len(), b.len());
    let (sum, max) = a.iter().zip(b).fold((0.0f64, 0.0f32), |(s, m), (x, y)| {
        let d = (x - y).abs();
        (s + f64::from(d), m.max(d))
    });
    ((sum / a.len() as f64) as f32, max)
}

#[test]
fn the_fixture_lists_its_int8_variant_and_both_graphs_pass_the_checks() {
    runtime();
    let package = int8_package();
    let Int8Variant::Listed { path, details } = &package.int8 else {
        panic!("no usable int8 variant: {:?}", package.int8);
    };
    assert!(path.ends_with("model-int8.onnx"), "{}", path.display());
    // The rest of the record is free-form, kept as is.
    assert!(details["method"].as_str().is_some(), "{details}");
    check_package(&package).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(check_int8_variant(&package), package.int8);
    let registry = ModelRegistry::scan(&[int8_dir()]);
    let entry = registry.get(INT8).expect("listed");
    assert!(entry.is_available(), "{:?}", entry.reason());
    assert_eq!(entry.package.as_ref().map(|p| &p.int8), Some(&package.int8));
}

#[test]
fn auto_runs_the_int8_variant_and_float_runs_model_onnx_close_but_not_identical() {
    runtime();
    let package = int8_package();
    let mut int8 = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Auto)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(int8.graph(), &GraphUsed::Int8);
    assert!(int8.path().ends_with("model-int8.onnx"));
    let mut float = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Float)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(float.graph(), &GraphUsed::Float);
    assert!(float.path().ends_with("model.onnx"));
    // `load` is the float graph.
    let plain =
        Generator::load(&package, ProviderPreference::Cpu).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain.graph(), &GraphUsed::Float);

    let want = read_f32_le(&package.dir.join("reference_image.f32"));
    let f = reference_output(&mut float, &package);
    let q = reference_output(&mut int8, &package);
    let (_, float_max) = diff(&f, &want);
    assert!(
        float_max < 1e-3,
        "model.onnx differs from PyTorch by {float_max}"
    );
    let (mean, max) = diff(&q, &f);
    // Measured when the fixture was made: mean 0.009, max 0.07 (RGB in [-1, 1]).
    assert!(
        mean > 1e-4,
        "the int8 graph gives the float output (mean |diff| {mean})"
    );
    assert!(
        mean < 0.05 && max < 0.3,
        "int8 is far from float: mean {mean}, max {max}"
    );
}

#[test]
fn a_broken_int8_file_falls_back_to_float_with_a_note_naming_it() {
    runtime();
    let original = int8_package();
    let mut float = Generator::load(&original, ProviderPreference::Cpu).expect("float");
    let want = reference_output(&mut float, &original);

    // Truncated: listed (the file is there), refused when opened.
    let (_tmp, dir) = broken_copy(truncate_int8);
    let package = ModelPackage::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(package.int8.path().is_some());
    let mut g = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Auto)
        .unwrap_or_else(|e| panic!("a broken int8 file must not fail the load: {e}"));
    let note = g.graph().note().expect("a note").to_string();
    assert!(
        note.contains(&dir.join("model-int8.onnx").display().to_string()) && note.contains("float"),
        "{note}"
    );
    assert_eq!(g.graph().label(), "float");
    assert_eq!(
        reference_output(&mut g, &package),
        want,
        "the float graph runs"
    );
    // The registry's check finds it too, and keeps the package available.
    let registry = ModelRegistry::scan(std::slice::from_ref(&dir));
    let entry = registry.get(INT8).expect("listed");
    assert!(entry.is_available(), "{:?}", entry.reason());
    let problem = entry
        .package
        .as_ref()
        .and_then(|p| p.int8.problem())
        .expect("a note");
    assert!(problem.contains("model-int8.onnx"), "{problem}");

    // Another network's I/O (the segmenter's graph): a mismatch, named.
    let (_tmp2, dir) = broken_copy(|d| {
        std::fs::copy(
            repo_dir().join("tests/fixtures/models/fixture-segmenter-untrained/model.onnx"),
            d.join("model-int8.onnx"),
        )
        .expect("copy");
    });
    let package = ModelPackage::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let g = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Auto)
        .unwrap_or_else(|e| panic!("{e}"));
    let note = g.graph().note().expect("a note");
    assert!(
        note.contains("model-int8.onnx") && note.contains("input"),
        "{note}"
    );

    // Missing: a note from model.json's reading, no ONNX Runtime needed.
    let (_tmp3, dir) = broken_copy(|d| {
        std::fs::remove_file(d.join("model-int8.onnx")).expect("rm");
    });
    let package = ModelPackage::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let problem = package.int8.problem().expect("a note");
    assert!(problem.contains("model-int8.onnx"), "{problem}");
    let g = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Auto)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.graph().note(), Some(problem));
    // Float asked for: no note, the package's problem is its own.
    let g = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Float)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.graph(), &GraphUsed::Float);
}

#[test]
fn a_variant_file_with_a_path_is_refused_as_a_note() {
    runtime();
    // The path even leads to a real int8 graph: still refused, only a file of the package counts.
    for file in [
        "../fixture-spade-int8-untrained/model-int8.onnx",
        "sub/model-int8.onnx",
    ] {
        let (_tmp, dir) = broken_copy(|d| set_int8_file(d, file));
        let package = ModelPackage::load(&dir).unwrap_or_else(|e| panic!("{e}"));
        let problem = package.int8.problem().expect("a note");
        assert!(
            problem.contains(file) && problem.contains("is a path"),
            "{problem}"
        );
        let g = Generator::load_with(&package, ProviderPreference::Cpu, Precision::Auto)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.graph().label(), "float");
        let registry = ModelRegistry::scan(std::slice::from_ref(&dir));
        assert!(registry.get(INT8).is_some_and(|e| e.is_available()));
    }
}

fn scenebrush(dir: &Path) -> Cmd {
    let mut cmd = Cmd::cargo_bin("scenebrush").expect("binary built");
    cmd.arg("--models-dir").arg(dir);
    cmd.env_remove("SCENEBRUSH_MODELS");
    cmd
}

fn stdout(cmd: &mut Cmd) -> String {
    String::from_utf8_lossy(&cmd.assert().success().get_output().stdout).into_owned()
}

/// The data row of `id` in `scenebrush models`.
fn models_row<'a>(text: &'a str, id: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("no row for {id}: {text}"))
}

#[test]
fn cli_precision_flag_and_the_models_listing() {
    runtime();
    let text = stdout(scenebrush(&int8_dir()).arg("models"));
    assert!(text.contains("GRAPHS") && text.contains("RUNS"), "{text}");
    let row = models_row(&text, INT8);
    assert!(row.contains("float, int8  int8"), "{row}");
    let text = stdout(scenebrush(&int8_dir()).args(["--precision", "float", "models"]));
    assert!(
        models_row(&text, INT8).contains("float, int8  float"),
        "{text}"
    );

    let (_tmp, broken) = broken_copy(truncate_int8);
    let text = stdout(scenebrush(&broken).arg("models"));
    let row = models_row(&text, INT8);
    assert!(
        row.contains("float, int8 (unusable)  float") && row.contains("available"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("note: {INT8}:")) && l.contains("model-int8.onnx")),
        "{text}"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let labels = int8_dir().join(INT8).join("reference_label.png");
    let render = |precision: Option<&str>, out: &str| {
        let mut cmd = scenebrush(&int8_dir());
        if let Some(p) = precision {
            cmd.args(["--precision", p]);
        }
        let path = tmp.path().join(out);
        cmd.args(["render", "--model", INT8, "--seed", "3", "--labels"])
            .arg(&labels)
            .arg("-o")
            .arg(&path);
        (stdout(&mut cmd), path)
    };
    let (auto_text, auto_png) = render(None, "auto.png");
    assert!(
        auto_text.contains(&format!("with {INT8} (int8)")),
        "{auto_text}"
    );
    let (float_text, float_png) = render(Some("float"), "float.png");
    assert!(
        float_text.contains(&format!("with {INT8} (float)")),
        "{float_text}"
    );
    let (_, explicit_png) = render(Some("auto"), "explicit.png");
    let open = |p: &Path| image::open(p).expect("png").into_rgb8();
    let (a, f) = (open(&auto_png), open(&float_png));
    assert!(open(&explicit_png) == a, "auto is the default");
    assert_ne!(a, f, "int8 and float pictures are not identical");
    let mean = a
        .as_raw()
        .iter()
        .zip(f.as_raw())
        .map(|(x, y)| f64::from(x.abs_diff(*y)))
        .sum::<f64>()
        / a.as_raw().len() as f64;
    assert!(
        mean < 10.0,
        "int8 and float pictures differ by {mean} per channel"
    );

    // The broken copy renders with the float graph and says why on stderr.
    let out = tmp.path().join("broken.png");
    scenebrush(&broken)
        .args(["render", "--model", INT8, "--seed", "3", "--labels"])
        .arg(&labels)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("(float)"))
        .stderr(predicate::str::contains("model-int8.onnx"));
    assert!(
        open(&out) == open(&render(Some("float"), "again.png").1),
        "the broken copy renders as model.onnx"
    );

    scenebrush(&int8_dir())
        .args(["--precision", "int4", "models"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown precision"));
}

fn harness(state: AppState) -> Harness<'static, SceneBrushApp> {
    runtime();
    let args = AppArgs {
        model_dirs: vec![int8_dir()],
        labels: None,
        provider: ProviderPreference::Cpu,
        session_file: None,
        ..Default::default()
    };
    let app = SceneBrushApp::new(&args, state);
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(move |_cc| app)
}

fn wait_until(
    h: &mut Harness<'_, SceneBrushApp>,
    what: &str,
    done: impl Fn(&SceneBrushApp) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            return;
        }
        assert!(
            start.elapsed() < RENDER_TIMEOUT,
            "{what} did not happen within {RENDER_TIMEOUT:?}: {:?}",
            h.state().models_status()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn graph(h: &Harness<'_, SceneBrushApp>) -> Option<GraphUsed> {
    h.state().load_state(INT8).and_then(|l| l.graph()).cloned()
}

#[test]
fn the_gui_setting_switches_the_graph_keeps_the_painting_and_persists() {
    let mut h = harness(AppState::default());
    wait_until(&mut h, "the first render", SceneBrushApp::settled);
    assert_eq!(h.state().state().precision, Precision::Auto);
    assert_eq!(graph(&h), Some(GraphUsed::Int8));
    let name = h.state().model_name(INT8);
    // The model list says which precision it runs.
    h.get_by_label(&format!("{name} · int8"));
    let int8_image = h.state().result(INT8).expect("an image").image.clone();
    let labels = h.state().labels().clone();
    let undo = h.state().undo_len();

    h.get_by_label("Models").click();
    h.step();
    h.step();
    let checkbox = h.get_by_label(USE_INT8);
    assert_eq!(
        checkbox.accesskit_node().toggled(),
        Some(egui::accesskit::Toggled::True)
    );
    checkbox.click();
    h.step();
    assert_eq!(h.state().state().precision, Precision::Float);
    wait_until(&mut h, "the float session's render", |app| {
        app.settled()
            && app
                .load_state(INT8)
                .and_then(|l| l.graph())
                .is_some_and(|g| *g == GraphUsed::Float)
    });
    h.step();
    h.get_by_label(&format!("{name} · float"));
    assert_eq!(h.state().labels(), &labels, "the painting stays");
    assert_eq!(h.state().undo_len(), undo);
    let float_image = h.state().result(INT8).expect("an image").image.clone();
    assert_ne!(float_image, int8_image, "rendered again by model.onnx");

    // Persisted with the other settings, as eframe keeps them (RON), and used at the next start.
    let mut storage = common::MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved: AppState =
        eframe::get_value(&storage, eframe::APP_KEY).expect("the settings read back");
    assert_eq!(saved.precision, Precision::Float);
    drop(h);
    let mut h = harness(saved);
    wait_until(&mut h, "the render after a restart", SceneBrushApp::settled);
    assert_eq!(graph(&h), Some(GraphUsed::Float));
    let restarted = h.state().result(INT8).expect("an image").image.clone();
    assert!(
        restarted == float_image,
        "the float graph after the restart"
    );
}
