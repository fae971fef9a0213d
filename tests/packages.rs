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
