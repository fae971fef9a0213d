//! Model packages broken in each way are listed as unavailable with the reason; good ones keep
//! working. Uses real ONNX Runtime sessions.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_package, fixture_packages, runtime};
use scenebrush::inference::{Generator, ProviderPreference, check_package};
use scenebrush::models::{ModelPackage, ModelRegistry, PackageStatus};

fn edit_json(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("model.json");
    let text = std::fs::read_to_string(&path).expect("read model.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("parse model.json");
    f(&mut v);
    std::fs::write(&path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
}

/// Copies `src` to `root/folder` with the id changed to the folder name.
fn variant(src: &ModelPackage, root: &Path, folder: &str) -> PathBuf {
    let dir = root.join(folder);
    copy_package(&src.dir, &dir);
    edit_json(&dir, |v| v["id"] = folder.into());
    dir
}

fn reason<'a>(reg: &'a ModelRegistry, id: &str) -> &'a str {
    let entry = reg
        .get(id)
        .unwrap_or_else(|| panic!("{id} is not listed: {:?}", reg.entries));
    match &entry.status {
        PackageStatus::Unavailable { reason } => reason,
        PackageStatus::Available => panic!("{id} should be unavailable"),
    }
}

#[test]
fn broken_packages_are_unavailable_with_reasons() {
    runtime();
    let good = fixture_packages();
    let base = &good[0];
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    for p in &good {
        copy_package(&p.dir, &root.join(&p.meta.id));
    }

    let d = variant(base, root, "bad-json");
    std::fs::write(
        d.join("model.json"),
        "{\"format\": 1, \"id\": \"bad-json\",",
    )
    .expect("write");

    let d = variant(base, root, "no-onnx");
    std::fs::remove_file(d.join("model.onnx")).expect("remove");

    let d = variant(base, root, "truncated-onnx");
    let bytes = std::fs::read(d.join("model.onnx")).expect("read");
    std::fs::write(d.join("model.onnx"), &bytes[..bytes.len() / 2]).expect("truncate");

    let d = variant(base, root, "garbage-onnx");
    std::fs::write(
        d.join("model.onnx"),
        b"\x08\x07garbage that is not a protobuf",
    )
    .expect("write");

    let d = variant(base, root, "wrong-height");
    edit_json(&d, |v| v["height"] = (base.meta.height + 32).into());

    let d = variant(base, root, "wrong-zdim");
    edit_json(&d, |v| v["z_dim"] = (base.meta.z_dim + 3).into());

    let d = variant(base, root, "class-gap");
    edit_json(&d, |v| {
        if let Some(c) = v["classes"].as_array_mut() {
            c.remove(2);
        }
        v["dontcare"] = serde_json::Value::Null;
    });

    let d = variant(base, root, "future-format");
    edit_json(&d, |v| v["format"] = 2.into());

    let d = variant(base, root, "as-segmenter");
    edit_json(&d, |v| {
        v["kind"] = "segmenter".into();
        v["z_dim"] = 0.into();
    });

    let reg = ModelRegistry::scan(&[root.to_path_buf()]);

    for p in &good {
        let e = reg.get(&p.meta.id).expect("good package listed");
        assert_eq!(e.status, PackageStatus::Available, "{}", p.meta.id);
    }
    assert_eq!(reg.available().count(), good.len());

    let r = reason(&reg, "bad-json");
    assert!(
        r.contains("bad-json/model.json") && r.contains("not valid JSON"),
        "{r}"
    );
    let r = reason(&reg, "no-onnx");
    assert!(r.contains("no-onnx/model.onnx is missing"), "{r}");
    for id in ["truncated-onnx", "garbage-onnx"] {
        let r = reason(&reg, id);
        assert!(
            r.contains(&format!("{id}/model.onnx")) && r.contains("cannot open"),
            "{r}"
        );
    }
    let r = reason(&reg, "wrong-height");
    assert!(
        r.contains("wrong-height/model.onnx")
            && r.contains(&format!(
                "its height is {} but model.json says {}",
                base.meta.height,
                base.meta.height + 32
            )),
        "{r}"
    );
    let r = reason(&reg, "wrong-zdim");
    assert!(r.contains("z_dim is") || r.contains("no input `z`"), "{r}");
    let r = reason(&reg, "class-gap");
    assert!(
        r.contains("class-gap/model.json") && r.contains("without gaps"),
        "{r}"
    );
    let r = reason(&reg, "future-format");
    assert!(
        r.contains("format 2") && r.contains("update SceneBrush"),
        "{r}"
    );
    let r = reason(&reg, "as-segmenter");
    assert!(r.contains("no input `image`"), "{r}");

    // The good packages still run after the scan met the broken ones.
    for p in reg.available() {
        let mut g = Generator::load(p, ProviderPreference::Cpu).unwrap_or_else(|e| panic!("{e}"));
        let img = g
            .generate(&common::sample_layout(p), 0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(img.dimensions(), (p.meta.width, p.meta.height));
    }
}

#[test]
fn generator_load_reports_mismatches_too() {
    runtime();
    let base = &fixture_packages()[0];
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = variant(base, tmp.path(), "wrong-width");
    edit_json(&d, |v| v["width"] = (base.meta.width + 64).into());
    let package = ModelPackage::load(&d).expect("metadata is valid on its own");
    let err = Generator::load(&package, ProviderPreference::Cpu).expect_err("mismatch");
    let msg = err.to_string();
    assert!(
        msg.contains("wrong-width/model.onnx") && msg.contains("width"),
        "{msg}"
    );
    assert!(check_package(&package).is_err());
    assert!(check_package(base).is_ok());
}

#[test]
fn a_generator_declaring_more_classes_than_its_network_is_broken() {
    runtime();
    let base = &fixture_packages()[0];
    let n = base.meta.classes.len();
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = variant(base, tmp.path(), "extra-class");
    edit_json(&d, |v| {
        if let Some(c) = v["classes"].as_array_mut() {
            c.push(serde_json::json!({"id": n, "name": "Extra", "color": [1, 2, 3]}));
        }
    });
    let package = ModelPackage::load(&d).expect("the metadata alone is valid");
    let reg = ModelRegistry::scan(&[tmp.path().to_path_buf()]);
    let r = reason(&reg, "extra-class");
    for needle in [
        "extra-class/model.onnx".to_string(),
        format!("the network encodes {n} classes (ids 0..{})", n - 1),
        format!("extra-class/model.json lists {}", n + 1),
        format!("so id {n} would render as garbage"),
        "export the package again".into(),
    ] {
        assert!(r.contains(&needle), "{needle:?} not in {r}");
    }
    // Loading it directly (the command line's render) refuses it the same way.
    let err = Generator::load(&package, ProviderPreference::Cpu).expect_err("mismatch");
    assert!(
        err.to_string().contains(&format!("encodes {n} classes")),
        "{err}"
    );
    assert!(check_package(base).is_ok());
}

/// scripts/make_broken_packages.sh builds packages broken in every known way next to two good
/// ones; the registry and `scenebrush models` must list each with its file and what to do,
/// never panic or hang (a named pipe, a 40 MB model.json, symbolic link loops), and keep the
/// good ones usable.
#[cfg(unix)]
#[test]
fn the_broken_package_corpus_is_listed_without_a_panic() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let corpus = tmp.path().join("corpus");
    let script = common::repo_dir().join("scripts/make_broken_packages.sh");
    let made = std::process::Command::new("bash")
        .arg(&script)
        .arg(&corpus)
        .output()
        .expect("run make_broken_packages.sh");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let loop_hint = if cfg!(target_os = "linux") {
        "points back at itself"
    } else {
        "cannot read"
    };
    let mut cases: Vec<(&str, Vec<&str>)> = vec![
        ("no-json", vec!["no-json/model.json is missing"]),
        ("bad-json", vec!["bad-json/model.json is not valid JSON"]),
        (
            "json-not-utf8",
            vec!["json-not-utf8/model.json is not UTF-8"],
        ),
        (
            "json-is-folder",
            vec!["json-is-folder/model.json is a folder, not a file"],
        ),
        ("json-huge", vec!["json-huge/model.json is 40000000 bytes"]),
        (
            "json-fifo",
            vec!["json-fifo/model.json is a device, pipe or socket"],
        ),
        (
            "json-link-loop",
            vec!["json-link-loop/model.json", loop_hint],
        ),
        (
            "json-link-dangling",
            vec!["json-link-dangling/model.json is a symbolic link to /nonexistent"],
        ),
        (
            "future-format",
            vec![
                "future-format/model.json uses package format 2",
                "update SceneBrush",
            ],
        ),
        (
            "unknown-arch",
            vec!["unknown-arch/model.json has architecture \"unet\""],
        ),
        (
            "huge-size",
            vec!["huge-size/model.json has height 1920000; at most 8192"],
        ),
        (
            "huge-zdim",
            vec!["huge-zdim/model.json has z_dim 1099511627776"],
        ),
        (
            "wrong-height",
            vec![
                "wrong-height/model.onnx",
                "its height is 192 but model.json says 224",
            ],
        ),
        (
            "extra-class",
            vec![
                "extra-class/model.onnx",
                "encodes 12 classes",
                "extra-class/model.json lists 13",
            ],
        ),
        (
            "duplicate-class-id",
            vec!["duplicate-class-id/model.json lists class id 3 twice"],
        ),
        ("bad-id", vec!["bad-id/model.json has id \"bad id!\""]),
        (
            "a-copy-of-good-spade",
            vec![
                "id \"good-spade\" is already provided by",
                "its folder is named after the id",
                "a-copy-of-good-spade/model.json",
            ],
        ),
        ("no-onnx", vec!["no-onnx/model.onnx is missing"]),
        (
            "onnx-is-folder",
            vec!["onnx-is-folder/model.onnx is a folder, not a file"],
        ),
        ("onnx-empty", vec!["cannot open", "onnx-empty/model.onnx"]),
        (
            "onnx-truncated",
            vec!["cannot open", "onnx-truncated/model.onnx"],
        ),
        ("onnx-random", vec!["cannot open", "onnx-random/model.onnx"]),
        (
            "onnx-link-loop",
            vec!["onnx-link-loop/model.onnx", loop_hint],
        ),
        ("empty-folder", vec!["empty-folder/model.json is missing"]),
        ("folder-link-loop", vec!["folder-link-loop", loop_hint]),
        (
            "folder-link-dangling",
            vec!["folder-link-dangling is a symbolic link to /nonexistent/scenebrush/package"],
        ),
    ];
    if corpus.join("json-unreadable").exists() {
        cases.push((
            "json-unreadable",
            vec!["json-unreadable/model.json", "read access"],
        ));
        cases.push((
            "folder-unreadable",
            vec!["folder-unreadable", "read access"],
        ));
    }
    // Each message says what to do, in one of these words.
    let actions = [
        "update", "correct", "fix", "replace", "give", "point", "make", "put", "save", "copy",
        "export",
    ];

    let reg = ModelRegistry::scan(std::slice::from_ref(&corpus));
    let ids: Vec<&str> = reg.available().map(|p| p.meta.id.as_str()).collect();
    assert_eq!(ids, ["good-ccfpse", "good-spade"], "{:#?}", reg.entries);
    assert_eq!(
        reg.get("good-spade").map(|e| e.dir.clone()),
        Some(corpus.join("good-spade"))
    );
    for (folder, needles) in &cases {
        let entry = reg
            .entries
            .iter()
            .find(|e| e.dir == corpus.join(folder))
            .unwrap_or_else(|| panic!("{folder} is not listed: {:#?}", reg.entries));
        let r = entry
            .reason()
            .unwrap_or_else(|| panic!("{folder} is listed as available"));
        for needle in needles {
            assert!(r.contains(needle), "{folder}: {needle:?} not in {r}");
        }
        assert!(
            actions.iter().any(|a| r.contains(a)),
            "{folder}: no advice in {r}"
        );
    }
    assert_eq!(reg.entries.len(), cases.len() + 2, "{:#?}", reg.entries);

    // The command line: the same, one row per package, and no panic.
    let start = std::time::Instant::now();
    let assert = assert_cmd::Command::cargo_bin("scenebrush")
        .expect("binary")
        .env_remove("SCENEBRUSH_MODELS")
        .arg("--models-dir")
        .arg(&corpus)
        .arg("models")
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .success();
    eprintln!("scenebrush models over the corpus: {:.2?}", start.elapsed());
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    for good in ["good-spade", "good-ccfpse"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(good) && l.ends_with("available")),
            "{good} not available in\n{stdout}"
        );
    }
    for (folder, needles) in &cases {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("unavailable:") && l.contains(needles[0])),
            "{folder} ({:?}) not listed in\n{stdout}",
            needles[0]
        );
    }
}
