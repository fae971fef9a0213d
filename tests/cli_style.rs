//! The command line's styles and photo editing: `render`/`compare --style`, `render
//! --save-style`, `edit`, and their bad input.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{fixtures_dir, png_declaring, repo_dir, runtime};
use predicates::prelude::*;
use scenebrush::io::{GridCell, grid_layout};

const SPADE_E: &str = "fixture-spade-encoder-untrained";
const CCFPSE_E: &str = "fixture-ccfpse-encoder-untrained";
const PLAIN: &str = "fixture-spade-untrained";

fn style_models_dir() -> PathBuf {
    repo_dir().join("tests/fixtures/style-models")
}

/// The binary with both fixture folders: models with and without a style encoder, and the
/// segmenter.
fn scenebrush() -> Command {
    let mut cmd = Command::cargo_bin("scenebrush").expect("binary built");
    cmd.arg("--models-dir")
        .arg(fixtures_dir())
        .arg("--models-dir")
        .arg(style_models_dir());
    cmd.env_remove("SCENEBRUSH_MODELS");
    cmd
}

fn layout() -> PathBuf {
    repo_dir().join("assets/layouts/city_street.png")
}

fn photo() -> PathBuf {
    style_models_dir().join(SPADE_E).join("reference_photo.png")
}

fn open(path: &Path) -> image::RgbaImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
        .into_rgba8()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn render(model: &str, extra: &[&str], out: &Path) -> assert_cmd::assert::Assert {
    scenebrush()
        .args(["render", "--model", model, "--labels"])
        .arg(layout())
        .args(extra)
        .arg("-o")
        .arg(out)
        .assert()
}

#[test]
fn render_with_a_photo_style_and_a_saved_style() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| tmp.path().join(name);
    let photo = photo();
    let photo = photo.to_str().expect("utf-8 path");

    render(SPADE_E, &[], &p("seed.png")).success();
    let style_file = p("street.scenebrush-style.json");
    render(
        SPADE_E,
        &[
            "--style",
            photo,
            "--save-style",
            style_file.to_str().expect("utf-8"),
        ],
        &p("styled.png"),
    )
    .success()
    .stdout(
        predicate::str::contains("style of reference_photo.png")
            .and(predicate::str::contains("style saved to")),
    );
    render(SPADE_E, &["--style", photo], &p("styled-again.png")).success();
    let (seed, styled) = (open(&p("seed.png")), open(&p("styled.png")));
    assert_ne!(styled, seed, "the photo's style changes the image");
    assert_eq!(
        open(&p("styled-again.png")),
        styled,
        "the same photo, the same image"
    );
    // The saved style gives the same image again, and says what it is.
    let text = std::fs::read_to_string(&style_file).expect("style file");
    assert!(
        text.contains("\"scenebrush_style\": 1") && text.contains(SPADE_E),
        "{text}"
    );
    render(
        SPADE_E,
        &["--style", style_file.to_str().expect("utf-8")],
        &p("from-file.png"),
    )
    .success();
    assert_eq!(open(&p("from-file.png")), styled);
    // A seed style is saved too and renders as the seed.
    render(
        PLAIN,
        &[
            "--seed",
            "3",
            "--save-style",
            p("s3.json").to_str().expect("utf-8"),
        ],
        &p("plain3.png"),
    )
    .success()
    .stdout(predicate::str::contains("seed 3"));
    render(
        PLAIN,
        &["--style", p("s3.json").to_str().expect("utf-8")],
        &p("plain3-again.png"),
    )
    .success();
    assert_eq!(open(&p("plain3-again.png")), open(&p("plain3.png")));
    // --style and --seed together make no sense for one model.
    render(SPADE_E, &["--style", photo, "--seed", "2"], &p("both.png"))
        .failure()
        .stderr(predicate::str::contains("cannot be used with"));
    assert!(!p("both.png").exists());
}

#[test]
fn bad_styles_fail_clearly_and_write_nothing() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&input).expect("mkdir");
    std::fs::create_dir_all(&out).expect("mkdir");
    let notes = input.join("notes.png");
    std::fs::write(&notes, "not a picture").expect("write");
    let huge = input.join("huge.png");
    std::fs::write(&huge, png_declaring(60_000, 60_000)).expect("write");
    let spade_style = input.join("spade.scenebrush-style.json");
    render(
        SPADE_E,
        &[
            "--style",
            photo().to_str().expect("utf-8"),
            "--save-style",
            spade_style.to_str().expect("utf-8"),
        ],
        &input.join("ok.png"),
    )
    .success();
    let broken = input.join("broken.json");
    std::fs::write(&broken, "{\"scenebrush_style\": 1, \"z\": [1.0]}").expect("write");

    let s = |p: &Path| p.to_str().expect("utf-8").to_string();
    let cases: Vec<(&str, Vec<String>, Vec<String>)> = vec![
        (
            SPADE_E,
            vec!["--style".into(), s(&notes)],
            vec!["notes.png".into(), "PNG or JPEG".into()],
        ),
        (
            SPADE_E,
            vec!["--style".into(), s(&huge)],
            vec![
                "huge.png".into(),
                "60000x60000".into(),
                "scale the photo down".into(),
            ],
        ),
        (
            PLAIN,
            vec!["--style".into(), s(&photo())],
            vec![
                "reference_photo.png".into(),
                "has no style encoder".into(),
                format!("{PLAIN}/encoder.onnx"),
                "use a seed".into(),
            ],
        ),
        (
            CCFPSE_E,
            vec!["--style".into(), s(&spade_style)],
            vec![
                "spade.scenebrush-style.json".into(),
                format!("made for model {SPADE_E} (z_dim 16)"),
                format!("not for {CCFPSE_E} (z_dim 8)"),
            ],
        ),
        (
            SPADE_E,
            vec!["--style".into(), s(&broken)],
            vec!["broken.json".into(), "no \"model\"".into()],
        ),
        (
            SPADE_E,
            vec!["--style".into(), s(&input.join("missing.jpg"))],
            vec!["missing.jpg".into(), "does not exist".into()],
        ),
        (
            SPADE_E,
            vec!["--style".into(), s(&input)],
            vec!["is a folder".into()],
        ),
        (
            SPADE_E,
            vec!["--save-style".into(), s(&spade_style)],
            vec!["already exists".into(), "--force".into()],
        ),
    ];
    for (model, extra, wants) in cases {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let output = render(model, &extra, &out.join("image.png"))
            .failure()
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&output.stderr);
        for want in &wants {
            assert!(
                stderr.contains(want.as_str()),
                "{extra:?}: {want} in {stderr}"
            );
        }
        assert!(
            files_in(&out).is_empty(),
            "{extra:?} wrote {:?}",
            files_in(&out)
        );
    }
    // The style file that was refused is unchanged.
    assert!(
        std::fs::read_to_string(&spade_style)
            .expect("read")
            .contains(SPADE_E)
    );
}

#[test]
fn compare_takes_the_photo_style_where_a_model_can_and_says_where_not() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let grid_path = tmp.path().join("grid.png");
    let models = [SPADE_E, PLAIN, CCFPSE_E];
    scenebrush()
        .args(["compare", "--models", &models.join(","), "--seed", "4"])
        .arg("--style")
        .arg(photo())
        .arg("--labels")
        .arg(layout())
        .arg("-o")
        .arg(&grid_path)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 of 3 models"))
        .stderr(predicate::str::contains(format!(
            "{PLAIN} is rendered with seed 4 (no style encoder)"
        )));
    let grid = open(&grid_path);
    let cell = |lines: usize| GridCell {
        image: image::RgbaImage::new(256, 192),
        caption: vec![String::new(); lines],
    };
    let geom = grid_layout(&[cell(2), cell(3), cell(3), cell(3)]);
    assert_eq!(grid.dimensions(), (geom.width, geom.height));
    for (i, (id, extra)) in [
        (
            SPADE_E,
            vec!["--style".to_string(), photo().display().to_string()],
        ),
        (PLAIN, vec!["--seed".to_string(), "4".to_string()]),
        (
            CCFPSE_E,
            vec!["--style".to_string(), photo().display().to_string()],
        ),
    ]
    .iter()
    .enumerate()
    {
        let single = tmp.path().join(format!("{id}.png"));
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        render(id, &extra, &single).success();
        let (x0, y0) = geom.origins[i + 1];
        let crop = image::imageops::crop_imm(&grid, x0, y0, 256, 192).to_image();
        assert_eq!(crop, open(&single), "cell of {id}");
    }

    // Nobody can take it: an error, and no grid.
    let none = tmp.path().join("none.png");
    scenebrush()
        .args([
            "compare",
            "--models",
            &format!("{PLAIN},fixture-ccfpse-untrained"),
        ])
        .arg("--style")
        .arg(photo())
        .arg("--labels")
        .arg(layout())
        .arg("-o")
        .arg(&none)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("none of the models can take the style")
                .and(predicate::str::contains("has no style encoder")),
        );
    assert!(!none.exists());
}

/// Writes an edited copy of a label map: `class` in the rectangle (x0..x1, y0..y1).
fn repaint(src: &Path, dest: &Path, rect: (u32, u32, u32, u32), class: u8) {
    let mut img = image::open(src).expect("layout").into_luma8();
    for y in rect.1..rect.3 {
        for x in rect.0..rect.2 {
            img.put_pixel(x, y, image::Luma([class]));
        }
    }
    img.save(dest).expect("save");
}

#[test]
fn edit_keeps_every_pixel_outside_the_mask() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = |name: &str| tmp.path().join(name);
    // A wide photo: the reference photo with 60 columns of flat colour on each side.
    let reference = image::open(photo()).expect("photo").into_rgb8();
    let wide = image::RgbImage::from_fn(376, 192, |x, y| {
        if (60..316).contains(&x) {
            *reference.get_pixel(x - 60, y)
        } else {
            image::Rgb([30, 200, (x % 256) as u8])
        }
    });
    wide.save(p("wide.png")).expect("save");
    scenebrush()
        .arg("segment")
        .arg(p("wide.png"))
        .arg("-o")
        .arg(p("layout.png"))
        .assert()
        .success();
    // The segmenter's layout is 64x48: a rectangle of trees in its top middle.
    repaint(&p("layout.png"), &p("edited.png"), (20, 8, 36, 20), 5);

    for (full, out) in [(false, "model.png"), (true, "full.png")] {
        let mut cmd = scenebrush();
        cmd.args(["edit", "--model", SPADE_E, "--photo"])
            .arg(p("wide.png"))
            .arg("--layout")
            .arg(p("edited.png"))
            .arg("-o")
            .arg(p(out));
        if full {
            cmd.arg("--full-size");
        }
        cmd.assert().success().stdout(
            predicate::str::contains("style of wide.png")
                .and(predicate::str::contains("every other pixel")),
        );
    }
    // At the model's size: the crop of the photo, changed only near the repainted rectangle
    // (x 80..144, y 32..80 at 256x192), within the 6-pixel dilation.
    let model = open(&p("model.png"));
    assert_eq!(model.dimensions(), (256, 192));
    let mut changed = 0;
    for (x, y, px) in model.enumerate_pixels() {
        let original = reference.get_pixel(x, y).0;
        if px.0[..3] != original {
            changed += 1;
            assert!(
                (74..150).contains(&x) && (26..86).contains(&y),
                "({x}, {y}) changed"
            );
        }
    }
    assert!(changed > 2000, "{changed}");
    // At the photo's size: the sides outside the crop untouched, the rest only near the edit.
    let full = open(&p("full.png"));
    assert_eq!(full.dimensions(), (376, 192));
    let mut changed = 0;
    for (x, y, px) in full.enumerate_pixels() {
        if px.0[..3] != wide.get_pixel(x, y).0 {
            changed += 1;
            assert!(
                (60 + 73..60 + 151).contains(&x) && (25..87).contains(&y),
                "({x}, {y}) changed"
            );
        }
    }
    assert!(changed > 2000, "{changed}");

    // The layout unchanged: the output is the photo, exactly.
    scenebrush()
        .args(["edit", "--model", PLAIN, "--photo"])
        .arg(p("wide.png"))
        .arg("--layout")
        .arg(p("layout.png"))
        .arg("--full-size")
        .arg("-o")
        .arg(p("same.png"))
        .assert()
        .success()
        .stdout(predicate::str::contains("this is the photo"));
    assert_eq!(
        open(&p("same.png")),
        image::DynamicImage::ImageRgb8(wide).into_rgba8()
    );
}

#[test]
fn edit_with_bad_input_fails_clearly_and_writes_nothing() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let square = tmp.path().join("square.png");
    image::GrayImage::new(64, 64).save(&square).expect("save");
    let notes = tmp.path().join("notes.jpg");
    std::fs::write(&notes, "not a picture").expect("write");
    let good_layout = tmp.path().join("layout.png");
    scenebrush()
        .arg("segment")
        .arg(photo())
        .arg("-o")
        .arg(&good_layout)
        .assert()
        .success();
    let cases: Vec<(PathBuf, PathBuf, &str, Vec<&str>)> = vec![
        (
            photo(),
            square.clone(),
            SPADE_E,
            vec!["square.png", "aspect ratios differ"],
        ),
        (
            notes.clone(),
            good_layout.clone(),
            SPADE_E,
            vec!["notes.jpg", "PNG or JPEG"],
        ),
        (
            photo(),
            good_layout.clone(),
            "fixture-segmenter-untrained",
            vec!["not a generator"],
        ),
    ];
    for (photo, layout, model, wants) in cases {
        let output = scenebrush()
            .args(["edit", "--model", model, "--photo"])
            .arg(&photo)
            .arg("--layout")
            .arg(&layout)
            .arg("-o")
            .arg(out_dir.join("edited.png"))
            .assert()
            .failure()
            .code(1)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&output.stderr);
        for want in wants {
            assert!(stderr.contains(want), "{want} in {stderr}");
        }
        assert!(files_in(&out_dir).is_empty());
    }
}
