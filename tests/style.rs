//! Style from a photo and photo editing with real ONNX Runtime sessions on the fixture packages
//! with a style encoder (tests/fixtures/style-models).

mod common;

use std::path::PathBuf;

use common::{fixture, png_declaring, read_f32_le, repo_dir, runtime, sample_layout};
use image::RgbImage;
use scenebrush::edit::{DILATE_PX, PhotoEdit, squared_distance_within};
use scenebrush::inference::{
    Generator, InferenceError, ProviderPreference, Segmenter, StyleEncoder, has_encoder, read_photo,
};
use scenebrush::models::{ModelPackage, Precision};
use scenebrush::style::{SavedStyle, Style, StyleError, generate};

const SPADE_E: &str = "fixture-spade-encoder-untrained";
const CCFPSE_E: &str = "fixture-ccfpse-encoder-untrained";

fn style_models_dir() -> PathBuf {
    repo_dir().join("tests/fixtures/style-models")
}

fn style_fixture(id: &str) -> ModelPackage {
    ModelPackage::load(&style_models_dir().join(id))
        .unwrap_or_else(|e| panic!("fixture package {id} is missing or broken ({e})"))
}

fn reference_photo(id: &str) -> PathBuf {
    style_models_dir().join(id).join("reference_photo.png")
}

fn encoder(id: &str) -> StyleEncoder {
    StyleEncoder::load(&style_fixture(id), ProviderPreference::Cpu)
        .unwrap_or_else(|e| panic!("{id}: {e}"))
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn encoders_match_pytorch_on_the_reference_photo() {
    runtime();
    for id in [SPADE_E, CCFPSE_E] {
        let package = style_fixture(id);
        assert!(has_encoder(&package), "{id}");
        let mut enc = encoder(id);
        assert_eq!(enc.provider().used, "CPU");
        assert!(enc.path().ends_with("encoder.onnx"));
        let photo = read_photo(&reference_photo(id)).expect("reference photo");
        let mu = enc.encode(&photo).expect("encoded");
        let want = read_f32_le(&style_models_dir().join(id).join("reference_mu.f32"));
        assert_eq!(mu.len(), package.meta.z_dim);
        assert!(max_diff(&mu, &want) < 1e-4, "{id}: {mu:?} vs {want:?}");
    }
    assert!(!has_encoder(&fixture("fixture-spade-untrained")));
}

#[test]
fn the_photo_is_fitted_as_photo_to_layout_and_mu_depends_on_it() {
    runtime();
    let mut enc = encoder(SPADE_E);
    let photo = read_photo(&reference_photo(SPADE_E)).expect("photo");
    let mu = enc.encode(&photo).expect("mu");
    assert_eq!(enc.encode(&photo).expect("again"), mu, "deterministic");
    // The same picture with 50 columns of something else on each side: the centred 4:3 crop
    // is the picture itself, so the style is the same.
    let (w, h) = photo.dimensions();
    let wide = RgbImage::from_fn(w + 100, h, |x, y| {
        if (50..50 + w).contains(&x) {
            *photo.get_pixel(x - 50, y)
        } else {
            image::Rgb([255, 0, (x * 3) as u8])
        }
    });
    assert_eq!(enc.encode(&wide).expect("wide"), mu);
    // Another photo, another style.
    let flipped = image::imageops::flip_vertical(&photo);
    let other = enc.encode(&flipped).expect("flipped");
    assert!(max_diff(&other, &mu) > 1e-2, "{other:?} vs {mu:?}");

    let vector = enc
        .style_from_photo_file(&reference_photo(SPADE_E))
        .expect("style");
    assert_eq!(vector.z, mu);
    assert_eq!(vector.model_id, SPADE_E);
    assert_eq!(vector.source.as_deref(), Some("reference_photo.png"));
    assert_eq!(
        vector.thumbnail.as_ref().map(|t| t.dimensions()),
        Some((96, 72))
    );
}

#[test]
fn a_photo_style_changes_the_image_and_a_seed_is_todays_noise() {
    runtime();
    let package = style_fixture(SPADE_E);
    let mut generator = Generator::load(&package, ProviderPreference::Cpu).expect("generator");
    let layout = sample_layout(&package);
    let seeded = generator.generate(&layout, 5).expect("seed");
    assert_eq!(
        generate(&mut generator, &layout, &Style::Seed(5)).expect("seed style"),
        seeded,
        "a seed style is the seed's noise"
    );
    let vector = encoder(SPADE_E)
        .style_from_photo_file(&reference_photo(SPADE_E))
        .expect("style");
    let style = Style::Vector(vector);
    let styled = generate(&mut generator, &layout, &style).expect("styled");
    assert_eq!(styled.dimensions(), seeded.dimensions());
    let differing = styled
        .pixels()
        .zip(seeded.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        differing > styled.len() / 4 / 2,
        "{differing} pixels differ"
    );
    assert_eq!(
        generate(&mut generator, &layout, &style).expect("again"),
        styled
    );

    // Kept in a file and read back: the same picture.
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("mine.scenebrush-style.json");
    SavedStyle::new("mine", style.clone())
        .save(&path, false)
        .expect("saved");
    let back = SavedStyle::load_for(&path, &package.meta).expect("loaded");
    assert_eq!(back.style, style);
    assert_eq!(
        generate(&mut generator, &layout, &back.style).expect("from file"),
        styled
    );

    // Another model refuses it before running, naming both models.
    let other = style_fixture(CCFPSE_E);
    let err = SavedStyle::load_for(&path, &other.meta).expect_err("other model");
    assert!(
        matches!(err, StyleError::WrongModel { .. })
            && err.to_string().contains("mine.scenebrush-style.json")
            && err.to_string().contains(SPADE_E)
            && err.to_string().contains(CCFPSE_E),
        "{err}"
    );
    let mut other_gen = Generator::load(&other, ProviderPreference::Cpu).expect("generator");
    let err = generate(&mut other_gen, &layout, &style).expect_err("other model");
    assert!(err.to_string().contains("z_dim 16") && err.to_string().contains("z_dim 8"));
}

#[test]
fn encoders_that_do_not_fit_are_refused_naming_the_file() {
    runtime();
    // No encoder at all.
    let plain = fixture("fixture-spade-untrained");
    let err = StyleEncoder::load(&plain, ProviderPreference::Cpu).expect_err("no encoder");
    assert!(matches!(err, InferenceError::NoEncoder { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("fixture-spade-untrained/encoder.onnx") && text.contains("use a seed"),
        "{text}"
    );
    // A segmenter is no generator.
    let err = StyleEncoder::load(
        &fixture("fixture-segmenter-untrained"),
        ProviderPreference::Cpu,
    )
    .expect_err("segmenter");
    assert!(err.to_string().contains("not a generator"), "{err}");

    // Another model's encoder (mu of 8 values for a generator taking 16).
    let tmp = tempfile::tempdir().expect("tempdir");
    let pkg = tmp.path().join("mixed");
    common::copy_package(&style_models_dir().join(SPADE_E), &pkg);
    std::fs::copy(
        style_models_dir().join(CCFPSE_E).join("encoder.onnx"),
        pkg.join("encoder.onnx"),
    )
    .expect("copy");
    let mixed = ModelPackage::load(&pkg).expect("package");
    let err = StyleEncoder::load(&mixed, ProviderPreference::Cpu).expect_err("z_dim");
    let text = err.to_string();
    assert!(
        text.contains("mixed/encoder.onnx")
            && text.contains("has 8 values")
            && text.contains("z of 16")
            && text.contains("export the package again"),
        "{text}"
    );

    // A damaged file.
    let bytes = std::fs::read(style_models_dir().join(SPADE_E).join("encoder.onnx")).expect("read");
    std::fs::write(pkg.join("encoder.onnx"), &bytes[..bytes.len() / 3]).expect("write");
    let err = StyleEncoder::load(&mixed, ProviderPreference::Cpu).expect_err("truncated");
    assert!(
        err.to_string().contains("cannot open") && err.to_string().contains("encoder.onnx"),
        "{err}"
    );
    // The generator's own network is not an encoder.
    std::fs::copy(pkg.join("model.onnx"), pkg.join("encoder.onnx")).expect("copy");
    let err = StyleEncoder::load(&mixed, ProviderPreference::Cpu).expect_err("generator");
    assert!(err.to_string().contains("one input `image`"), "{err}");
}

#[test]
fn bad_photos_are_explained() {
    runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut enc = encoder(SPADE_E);
    let huge = tmp.path().join("huge.png");
    std::fs::write(&huge, png_declaring(60_000, 60_000)).expect("write");
    let err = enc.style_from_photo_file(&huge).expect_err("huge");
    let text = err.to_string();
    assert!(
        text.contains("huge.png")
            && text.contains("60000x60000")
            && text.contains("scale the photo down"),
        "{text}"
    );
    let text_file = tmp.path().join("notes.png");
    std::fs::write(&text_file, "not a picture").expect("write");
    let err = enc
        .style_from_photo_file(&text_file)
        .expect_err("not an image");
    assert!(
        err.to_string().contains("notes.png") && err.to_string().contains("PNG or JPEG"),
        "{err}"
    );
    let err = enc
        .style_from_photo_file(&tmp.path().join("missing.jpg"))
        .expect_err("missing");
    assert!(err.to_string().contains("missing.jpg"), "{err}");
}

/// The guarantee of photo editing on real models: the segmenter's layout of a photo, a region
/// repainted, the generator's image of it in the photo's style: outside the dilated mask every
/// pixel is the photo's.
#[test]
fn an_edit_changes_no_pixel_outside_its_dilated_mask() {
    runtime();
    let package = style_fixture(SPADE_E);
    let meta = &package.meta;
    let photo = read_photo(&reference_photo(SPADE_E)).expect("photo");
    let mut segmenter = Segmenter::load(
        &fixture("fixture-segmenter-untrained"),
        ProviderPreference::Cpu,
    )
    .expect("segmenter");
    let layout = segmenter.segment(&photo).expect("layout");
    let edit = PhotoEdit::new(photo.clone(), &layout, meta.width, meta.height);
    assert_eq!(edit.fitted, photo, "the photo is at the model's size");
    let mut edited = edit.original_layout.clone();
    for y in 40..90 {
        for x in 150..220 {
            edited.set(x, y, 5); // a tree
        }
    }
    let mask = edit.mask(&edited).expect("mask");
    assert!(mask.changed_pixels() > 1000, "{}", mask.changed_pixels());

    let style = Style::Vector(
        encoder(SPADE_E)
            .style_from_photo(&edit.photo, Some("reference_photo.png".into()))
            .expect("style"),
    );
    let mut generator = Generator::load(&package, ProviderPreference::Cpu).expect("generator");
    let generated = image::DynamicImage::ImageRgba8(
        generate(&mut generator, &edited, &style).expect("generated"),
    )
    .into_rgb8();
    let out = edit.edited(&generated, &mask).expect("edited");

    let changed: Vec<bool> = edit
        .original_layout
        .data()
        .iter()
        .zip(edited.data())
        .map(|(a, b)| a != b)
        .collect();
    let d2 = squared_distance_within(&changed, meta.width, meta.height, DILATE_PX);
    let (mut kept, mut replaced) = (0, 0);
    for (x, y, p) in out.enumerate_pixels() {
        let i = (y * meta.width + x) as usize;
        if d2[i] == u32::MAX {
            assert_eq!(p, photo.get_pixel(x, y), "outside the mask at ({x}, {y})");
            kept += 1;
        } else if changed[i] {
            assert_eq!(p, generated.get_pixel(x, y), "changed pixel ({x}, {y})");
            replaced += 1;
        }
    }
    assert!(
        kept > 40_000 && replaced == mask.changed_pixels(),
        "{kept} {replaced}"
    );
    assert!(out != photo);
}

/// The app's latest-wins worker renders with a style: a photo's vector, and refuses another
/// model's without stopping.
#[test]
fn the_worker_renders_with_a_style() {
    use scenebrush::inference::{InferenceWorker, RenderRequest, WorkerEvent};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    runtime();
    let spade = style_fixture(SPADE_E);
    let ccfpse = style_fixture(CCFPSE_E);
    let layout = Arc::new(sample_layout(&spade));
    let vector = encoder(SPADE_E)
        .style_from_photo_file(&reference_photo(SPADE_E))
        .expect("style");
    let style = Style::Vector(vector);
    let mut direct = Generator::load(&spade, ProviderPreference::Cpu).expect("generator");
    let want = generate(&mut direct, &layout, &style).expect("direct");

    let worker = InferenceWorker::spawn(
        vec![spade.clone(), ccfpse.clone()],
        ProviderPreference::Cpu,
        Precision::Float,
    );
    let request = |p: &ModelPackage, generation| RenderRequest {
        model_id: p.meta.id.clone(),
        labels: Arc::clone(&layout),
        seed: 9,
        generation,
    };
    worker.submit_with_style(request(&spade, 1), style.clone());
    worker.submit_with_style(request(&ccfpse, 2), style.clone());
    let (mut image, mut refused) = (None, None);
    let start = Instant::now();
    while (image.is_none() || refused.is_none()) && start.elapsed() < Duration::from_secs(120) {
        match worker.recv_timeout(Duration::from_millis(100)) {
            Some(WorkerEvent::Rendered {
                model_id,
                image: i,
                seed,
                ..
            }) if model_id == SPADE_E => {
                assert_eq!(seed, 9);
                image = Some(i);
            }
            Some(WorkerEvent::RenderFailed {
                model_id, error, ..
            }) if model_id == CCFPSE_E => refused = Some(error),
            Some(WorkerEvent::ModelFailed { error, .. }) => panic!("{error}"),
            Some(WorkerEvent::RenderFailed { error, .. }) => panic!("{error}"),
            _ => {}
        }
    }
    assert_eq!(image.as_ref(), Some(&want));
    let refused = refused.expect("refused");
    assert!(
        refused.contains(SPADE_E) && refused.contains(CCFPSE_E),
        "{refused}"
    );
}
