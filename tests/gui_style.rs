//! GUI tests of styles and photo editing: the real app (real ONNX Runtime sessions on the
//! fixture generators with a style encoder, tests/fixtures/style-models, and the segmenter
//! fixture) driven through egui_kittest by label and through commands, read through the app's
//! accessors.
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use image::RgbImage;
use scenebrush::canvas::{LabelMap, Tool};
use scenebrush::edit::EditMask;
use scenebrush::inference::{
    Generator, ProviderPreference, StyleEncoder, aspect_crop_rect, read_photo,
};
use scenebrush::style::{SavedStyle, Style, StyleVector, generate};
use scenebrush::ui::{
    AppArgs, AppState, Command, DialogPurpose, EditView, ModelStyle, PendingDialog, SaveKind,
    SceneBrushApp, StyleChoice, View,
};

const SPADE_E: &str = "fixture-spade-encoder-untrained";
const CCFPSE_E: &str = "fixture-ccfpse-encoder-untrained";
/// A generator without a style encoder.
const SPADE: &str = "fixture-spade-untrained";

/// Generous: sessions load and warm up on a shared 2-core machine.
const TIMEOUT: Duration = Duration::from_secs(180);

fn style_models_dir() -> PathBuf {
    common::repo_dir().join("tests/fixtures/style-models")
}

fn reference_photo() -> PathBuf {
    style_models_dir().join(SPADE_E).join("reference_photo.png")
}

fn args() -> AppArgs {
    common::runtime();
    AppArgs {
        // The style models beside the others, as a second models folder.
        model_dirs: vec![common::fixtures_dir(), style_models_dir()],
        labels: None,
        provider: ProviderPreference::Cpu,
        session_file: None,
        ..Default::default()
    }
}

fn new_app(state: AppState) -> SceneBrushApp {
    SceneBrushApp::new(&args(), state)
}

fn active(id: &str) -> AppState {
    AppState {
        active_model: Some(id.to_string()),
        ..AppState::default()
    }
}

fn harness(app: SceneBrushApp) -> Harness<'static, SceneBrushApp> {
    Harness::builder()
        .with_size([1280.0, 900.0])
        .build_eframe(move |_cc| app)
}

/// Steps until no job runs (segmentation, style, export) and every model on screen shows the
/// current layout and style.
fn wait(h: &mut Harness<'_, SceneBrushApp>) {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        if app.settled() && !app.segmenting() && !app.taking_style() && !app.exporting() {
            return;
        }
        if start.elapsed() > TIMEOUT {
            panic!(
                "the app did not settle within {TIMEOUT:?}: {:?}, error {:?}",
                app.models_status(),
                app.error()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn apply(h: &mut Harness<'_, SceneBrushApp>, c: Command) {
    let ctx = h.ctx.clone();
    h.state_mut().apply_commands(&ctx, vec![c]);
}

fn click(h: &mut Harness<'_, SceneBrushApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

fn take_error(h: &mut Harness<'_, SceneBrushApp>) -> scenebrush::ui::ErrorReport {
    let error = h.state().error().cloned().expect("an error report");
    apply(h, Command::DismissError);
    error
}

/// Hands the app a native file dialog's answer, as the dialog's thread would.
fn answer_dialog(h: &mut Harness<'_, SceneBrushApp>, purpose: DialogPurpose, path: &Path) {
    let (tx, rx) = std::sync::mpsc::channel();
    h.state_mut().await_dialog(PendingDialog::new(purpose, rx));
    tx.send(Some(path.to_path_buf())).expect("send");
    h.step();
    h.step();
    assert!(!h.state().dialog_open(), "the answer was not taken");
}

fn image_of(h: &Harness<'_, SceneBrushApp>, id: &str) -> image::RgbaImage {
    h.state().result(id).expect("an image").image.clone()
}

fn has_text(h: &Harness<'_, SceneBrushApp>, text: &str) -> bool {
    h.query_all_by(|n| {
        n.value().is_some_and(|v| v.contains(text)) || n.label().is_some_and(|l| l.contains(text))
    })
    .next()
    .is_some()
}

/// The photo's style as model `id`'s encoder takes it (outside the app).
fn encoded(id: &str, photo: &Path) -> StyleVector {
    let package = scenebrush::models::ModelPackage::load(&style_models_dir().join(id))
        .expect("style fixture");
    StyleEncoder::load(&package, ProviderPreference::Cpu)
        .expect("encoder")
        .style_from_photo_file(photo)
        .expect("style")
}

/// The image model `id` makes of `labels` with `style` (outside the app).
fn generated(id: &str, labels: &LabelMap, style: &Style) -> image::RgbaImage {
    let package = scenebrush::models::ModelPackage::load(&style_models_dir().join(id))
        .expect("style fixture");
    let mut generator = Generator::load(&package, ProviderPreference::Cpu).expect("generator");
    generate(&mut generator, labels, style).expect("generated")
}

fn vector_of(h: &Harness<'_, SceneBrushApp>, id: &str) -> StyleVector {
    match h.state().model_style(id) {
        ModelStyle::Vector(v) => v,
        other => panic!("{id} renders with {other:?}, not a vector"),
    }
}

#[test]
fn style_from_a_photo_changes_the_style_and_the_image_and_new_style_returns_to_noise() {
    let mut h = harness(new_app(active(SPADE_E)));
    wait(&mut h);
    let seeded = image_of(&h, SPADE_E);
    assert!(
        !h.get_by_label(scenebrush::ui::STYLE_FROM_PHOTO)
            .accesskit_node()
            .is_disabled(),
        "a model with a style encoder takes a photo's style"
    );
    assert!(has_text(&h, "Noise from seed 0"));

    // The button's file dialog answers with the photo.
    let photo = reference_photo();
    answer_dialog(&mut h, DialogPurpose::StylePhoto, &photo);
    wait(&mut h);
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert_eq!(h.state().state().style, StyleChoice::Photo(photo.clone()));
    let vector = vector_of(&h, SPADE_E);
    let want = encoded(SPADE_E, &photo);
    assert_eq!(vector.z, want.z, "the model's encoder's mean style");
    let thumbnail = vector.thumbnail.as_ref().expect("a thumbnail");
    assert_eq!(thumbnail.dimensions(), (96, 72));
    let styled = image_of(&h, SPADE_E);
    assert_ne!(
        styled.as_raw(),
        seeded.as_raw(),
        "the style changes the image"
    );
    let labels = h.state().labels().clone();
    assert_eq!(
        styled,
        generated(SPADE_E, &labels, &Style::Vector(want.clone())),
        "the image is the generator's with the photo's mu as z"
    );
    // The photo's thumbnail is the active style.
    assert!(has_text(&h, "Active style: Style of reference_photo.png"));
    assert!(has_text(&h, "style of reference_photo.png"));

    // N: back to the noise of a new seed.
    h.key_press(Key::N);
    h.step();
    wait(&mut h);
    assert_eq!(h.state().state().style, StyleChoice::Seed);
    let seed = h.state().state().seed;
    assert_ne!(seed, 0);
    assert_ne!(image_of(&h, SPADE_E).as_raw(), styled.as_raw());
    assert!(has_text(&h, &format!("Noise from seed {seed}")));

    // A photo dropped on the result takes its style too; the seed field returns to noise.
    let name = h.state().model_name(SPADE_E);
    let card = h.get_by_label(&format!("Result of {name}")).rect();
    h.hover_at(card.center());
    h.step();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(common::PathFile(photo.clone())));
    h.step();
    wait(&mut h);
    assert_eq!(h.state().state().style, StyleChoice::Photo(photo.clone()));
    assert_eq!(
        image_of(&h, SPADE_E),
        styled,
        "the same photo, the same image"
    );
    let layout_before = h.state().labels().clone();
    apply(&mut h, Command::SetSeed(0));
    wait(&mut h);
    assert_eq!(h.state().state().style, StyleChoice::Seed);
    assert_eq!(image_of(&h, SPADE_E), seeded, "seed 0 again");
    assert_eq!(
        h.state().labels(),
        &layout_before,
        "dropping a photo on the result does not open it as a layout"
    );
}

#[test]
fn kept_styles_give_the_same_image_again_persist_and_travel_as_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(new_app(active(SPADE_E)));
    wait(&mut h);
    apply(&mut h, Command::StyleFromPhoto(Some(reference_photo())));
    wait(&mut h);
    let styled = image_of(&h, SPADE_E);

    // "Save style…" asks for a name.
    click(&mut h, scenebrush::ui::SAVE_STYLE);
    let field = h.get_by_label("Name");
    field.focus();
    h.step();
    h.event(egui::Event::Key {
        key: Key::A,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: Modifiers::COMMAND,
    });
    h.event(egui::Event::Text("street".into()));
    h.step();
    click(&mut h, "Keep");
    let kept = h.state().state().saved_styles.clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].name, "street");
    assert_eq!(kept[0].style, Style::Vector(vector_of(&h, SPADE_E)));
    // A seed can be kept too.
    apply(&mut h, Command::SetSeed(77));
    apply(&mut h, Command::SaveStyle("seventy-seven".into()));
    wait(&mut h);
    let seed77 = image_of(&h, SPADE_E);
    assert_ne!(seed77.as_raw(), styled.as_raw());

    // Click the kept style: the same image as before.
    click(&mut h, "Style street");
    wait(&mut h);
    assert!(matches!(h.state().state().style, StyleChoice::Saved(_)));
    assert_eq!(
        image_of(&h, SPADE_E),
        styled,
        "a kept style gives the same image"
    );
    click(&mut h, "Style seventy-seven");
    wait(&mut h);
    assert_eq!(h.state().state().style, StyleChoice::Seed);
    assert_eq!(h.state().state().seed, 77);
    assert_eq!(image_of(&h, SPADE_E), seed77);

    // The strip's previews: the current layout with each kept style, rendered while idle.
    let start = Instant::now();
    let version = h.state().layout_version();
    let ready = |h: &Harness<'_, SceneBrushApp>| {
        kept.iter()
            .chain(&h.state().state().saved_styles[1..])
            .all(|s| {
                h.state()
                    .style_preview(SPADE_E, &s.style)
                    .is_some_and(|p| p.version == version && p.image.is_some())
            })
    };
    while !ready(&h) {
        assert!(start.elapsed() < TIMEOUT, "the previews did not come");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let preview = h
        .state()
        .style_preview(SPADE_E, &kept[0].style)
        .and_then(|p| p.image.clone())
        .expect("preview");
    assert_eq!(preview.dimensions(), (128, 96), "previews are small");
    let small = image::imageops::resize(&styled, 128, 96, image::imageops::FilterType::Triangle);
    assert_eq!(
        preview, small,
        "the preview is the style's image, scaled down"
    );
    // A new layout makes them stale: they are rendered again.
    apply(&mut h, Command::SetTool(Tool::Rect));
    apply(
        &mut h,
        Command::Rect {
            a: (10.0, 10.0),
            b: (60.0, 60.0),
        },
    );
    wait(&mut h);
    let version = h.state().layout_version();
    let start = Instant::now();
    while h
        .state()
        .style_preview(SPADE_E, &kept[0].style)
        .is_none_or(|p| p.version != version)
    {
        assert!(
            start.elapsed() < TIMEOUT,
            "the preview was not rendered again"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }

    // Export as a style file, import it into a fresh app: the same image of the same layout.
    let file = dir.path().join("street");
    answer_dialog(&mut h, DialogPurpose::Save(SaveKind::Style(0)), &file);
    let file = dir.path().join("street.scenebrush-style.json");
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert_eq!(SavedStyle::load(&file).expect("a style file"), kept[0]);
    let layout = dir.path().join("layout.png");
    apply(
        &mut h,
        Command::Save {
            kind: SaveKind::LayoutIds,
            path: Some(layout.clone()),
            overwrite: false,
        },
    );
    apply(&mut h, Command::ApplyStyle(0));
    wait(&mut h);
    let styled_here = image_of(&h, SPADE_E);

    let mut fresh = harness(new_app(active(SPADE_E)));
    wait(&mut fresh);
    apply(&mut fresh, Command::Open(Some(layout)));
    answer_dialog(&mut fresh, DialogPurpose::ImportStyle, &file);
    assert_eq!(fresh.state().state().saved_styles, kept);
    assert!(
        fresh
            .state()
            .notice()
            .is_some_and(|n| n.contains("street.scenebrush-style.json")),
        "{:?}",
        fresh.state().notice()
    );
    click(&mut fresh, "Style street");
    wait(&mut fresh);
    assert_eq!(image_of(&fresh, SPADE_E), styled_here);

    // They persist with the settings (eframe's storage, RON), and a damaged one is dropped
    // without losing the others.
    let state = h.state().state().clone();
    let mut storage = common::MemoryStorage::default();
    eframe::set_value(&mut storage, eframe::APP_KEY, &state);
    let back: AppState = eframe::get_value(&storage, eframe::APP_KEY).expect("read back");
    assert_eq!(back.saved_styles, state.saved_styles);
    assert_eq!(back.style, state.style);
    let text = storage.0.get(eframe::APP_KEY).cloned().expect("stored");
    // The last kept style (the seed) from a newer SceneBrush: unreadable here.
    let at = text
        .rfind("scenebrush_style:Some(1)")
        .unwrap_or_else(|| panic!("{text}"));
    let mut damaged = text.clone();
    damaged.replace_range(
        at..at + "scenebrush_style:Some(1)".len(),
        "scenebrush_style:Some(99)",
    );
    storage.0.insert(eframe::APP_KEY.to_string(), damaged);
    let back: AppState = eframe::get_value(&storage, eframe::APP_KEY).expect("still read");
    assert_eq!(back.saved_styles.len(), state.saved_styles.len() - 1);
    assert_eq!(back.saved_styles[0], state.saved_styles[0]);
    assert_eq!(back.style, state.style, "the other settings are kept");
    assert_eq!(back.seed, state.seed);

    // Delete.
    apply(&mut h, Command::DeleteStyle(0));
    assert_eq!(h.state().state().saved_styles.len(), 1);
    assert_eq!(h.state().state().saved_styles[0].name, "seventy-seven");
}

#[test]
fn a_model_without_a_style_encoder_says_so_and_compared_models_share_the_photo() {
    let mut h = harness(new_app(AppState {
        compare_models: vec![SPADE_E.into(), SPADE.into()],
        ..active(SPADE)
    }));
    wait(&mut h);
    let button = h.get_by_label(scenebrush::ui::STYLE_FROM_PHOTO);
    assert!(button.accesskit_node().is_disabled());
    let why = h.state().no_style_encoder().expect("why");
    assert!(
        why.contains(SPADE) && why.contains("has no style encoder") && why.contains("seed"),
        "{why}"
    );
    let photo = reference_photo();
    apply(&mut h, Command::StyleFromPhoto(Some(photo.clone())));
    wait(&mut h);
    let error = take_error(&mut h);
    assert!(error.title.contains("reference_photo.png"), "{error:?}");
    assert!(error.message.contains("has no style encoder"), "{error:?}");
    assert_eq!(h.state().state().style, StyleChoice::Seed);

    // Compare: the model with an encoder takes the photo's style, the other says why not.
    apply(&mut h, Command::SetView(View::Compare));
    wait(&mut h);
    assert!(
        !h.get_by_label(scenebrush::ui::STYLE_FROM_PHOTO)
            .accesskit_node()
            .is_disabled()
    );
    apply(&mut h, Command::StyleFromPhoto(Some(photo.clone())));
    wait(&mut h);
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert_eq!(vector_of(&h, SPADE_E).z, encoded(SPADE_E, &photo).z);
    assert_eq!(
        h.state().model_style(SPADE).caption(),
        "seed 0 (no style encoder)"
    );
    assert!(has_text(&h, "seed 0 (no style encoder)"));
    let cells = h.state().grid_cells().expect("grid");
    assert!(
        cells[1]
            .caption
            .iter()
            .any(|c| c.contains("seed 0 (no style encoder)")),
        "{:?}",
        cells[1].caption
    );
    assert!(
        cells[0]
            .caption
            .iter()
            .any(|c| c.contains("style of reference_photo.png")),
        "{:?}",
        cells[0].caption
    );

    // A model added to the comparison takes the same photo's style with its own encoder.
    apply(&mut h, Command::ToggleCompare(CCFPSE_E.into()));
    wait(&mut h);
    let other = vector_of(&h, CCFPSE_E);
    assert_eq!(other.model_id, CCFPSE_E);
    assert_eq!(other.z, encoded(CCFPSE_E, &photo).z);

    // A style kept for one model is shown disabled with another, and refused with why.
    apply(&mut h, Command::SetView(View::Paint));
    apply(&mut h, Command::SetActiveModel(SPADE_E.into()));
    wait(&mut h);
    apply(&mut h, Command::SaveStyle("spade look".into()));
    apply(&mut h, Command::SetActiveModel(CCFPSE_E.into()));
    wait(&mut h);
    assert!(
        h.get_by_label("Style spade look")
            .accesskit_node()
            .is_disabled()
    );
    let style_before = h.state().state().style.clone();
    apply(&mut h, Command::ApplyStyle(0));
    let error = take_error(&mut h);
    assert!(
        error.title.contains("spade look")
            && error.message.contains(SPADE_E)
            && error.message.contains(CCFPSE_E),
        "{error:?}"
    );
    assert_eq!(h.state().state().style, style_before);
}

/// A photo larger than the model's view and of another aspect ratio: the reference photo
/// scaled up, with borders left and right that the model never sees.
fn wide_photo(path: &Path) -> RgbImage {
    let reference = read_photo(&reference_photo()).expect("reference photo");
    let inner =
        image::imageops::resize(&reference, 512, 384, image::imageops::FilterType::Triangle);
    let mut photo = RgbImage::from_fn(640, 384, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    });
    image::imageops::replace(&mut photo, &inner, 64, 0);
    photo.save(path).expect("write the photo");
    photo
}

#[test]
fn editing_a_photo_keeps_every_pixel_outside_the_mask() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("street.png");
    let photo = wide_photo(&path);
    let mut h = harness(new_app(active(SPADE_E)));
    wait(&mut h);
    let before = h.state().labels().clone();
    let undo_before = h.state().undo_len();

    answer_dialog(&mut h, DialogPurpose::EditPhoto, &path);
    wait(&mut h);
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    let session = h.state().editing().expect("editing");
    assert_eq!(session.edit.photo, photo);
    let original = session.edit.original_layout.clone();
    let fitted = session.edit.fitted.clone();
    assert_eq!(
        h.state().labels(),
        &original,
        "the photo's layout is in the canvas"
    );
    assert_eq!(h.state().undo_len(), undo_before + 1, "one undo step");
    assert_eq!(session.edited, fitted, "the result is the photo itself");
    assert!(session.mask.is_empty());
    assert_eq!(
        h.state().state().style,
        StyleChoice::Photo(path.clone()),
        "the photo's style is the style"
    );
    assert_eq!(vector_of(&h, SPADE_E).z, encoded(SPADE_E, &path).z);

    // Paint a rectangle with the class least present in the photo's layout.
    let hist = original.histogram();
    let class = (0..11u8)
        .min_by_key(|&c| hist[c as usize])
        .expect("a class");
    apply(&mut h, Command::SelectClass(class));
    apply(&mut h, Command::SetTool(Tool::Rect));
    apply(
        &mut h,
        Command::Rect {
            a: (100.0, 60.0),
            b: (170.0, 120.0),
        },
    );
    wait(&mut h);
    let labels = h.state().labels().clone();
    let session = h.state().editing().expect("still editing");
    assert!(session.is_current(h.state().layout_version()));
    let mask = EditMask::from_layouts(&original, &labels).expect("mask");
    assert!(mask.changed_pixels() > 2000, "{}", mask.changed_pixels());
    assert_eq!(session.mask, mask);
    let (mut kept, mut blended) = (0, 0);
    for (i, (x, y, p)) in session.edited.enumerate_pixels().enumerate() {
        if mask.alpha()[i] == 0.0 {
            assert_eq!(p, fitted.get_pixel(x, y), "outside the mask at ({x}, {y})");
            kept += 1;
        } else if p != fitted.get_pixel(x, y) {
            blended += 1;
        }
    }
    assert!(
        kept > 30_000 && blended > 1000,
        "{kept} kept, {blended} blended"
    );

    // Toggles: original, mask, edited.
    click(&mut h, "Mask");
    assert_eq!(h.state().state().edit_view, EditView::Mask);
    click(&mut h, "Original");
    assert_eq!(h.state().state().edit_view, EditView::Original);
    click(&mut h, "Edited");
    assert_eq!(h.state().state().edit_view, EditView::Edited);

    // Export at the model's size and at the photo's own size.
    let small = dir.path().join("edited.png");
    apply(
        &mut h,
        Command::Save {
            kind: SaveKind::EditedPhoto,
            path: Some(small.clone()),
            overwrite: false,
        },
    );
    let written = image::open(&small).expect("edited photo").to_rgb8();
    assert_eq!(&written, &h.state().editing().expect("editing").edited);
    let full = dir.path().join("edited-full.png");
    apply(
        &mut h,
        Command::Save {
            kind: SaveKind::EditedPhotoFullSize,
            path: Some(full.clone()),
            overwrite: false,
        },
    );
    wait(&mut h);
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    let written = image::open(&full).expect("full-size photo").to_rgb8();
    assert_eq!(written.dimensions(), photo.dimensions());
    let (cx, cy, cw, ch) = aspect_crop_rect(640, 384, 256, 192).expect("a crop");
    assert_eq!((cx, cy, cw, ch), (64, 0, 512, 384));
    let big = mask.resized(cw, ch);
    let (mut kept, mut blended) = (0, 0);
    for (x, y, p) in written.enumerate_pixels() {
        let inside = x >= cx && x < cx + cw && y >= cy && y < cy + ch;
        let a = if inside {
            big.alpha()[((y - cy) * cw + (x - cx)) as usize]
        } else {
            0.0
        };
        if a == 0.0 {
            assert_eq!(
                p,
                photo.get_pixel(x, y),
                "full size, outside the mask at ({x}, {y})"
            );
            kept += 1;
        } else if p != photo.get_pixel(x, y) {
            blended += 1;
        }
    }
    assert!(
        kept > 150_000 && blended > 4000,
        "{kept} kept, {blended} blended"
    );
    // Not replaced without asking.
    apply(
        &mut h,
        Command::Save {
            kind: SaveKind::EditedPhotoFullSize,
            path: Some(full.clone()),
            overwrite: false,
        },
    );
    wait(&mut h);
    assert!(h.state().overwrite_question().is_some());
    apply(&mut h, Command::ConfirmOverwrite(false));

    // Undo: the photo's layout again (the photo itself), then the painting before.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h);
    assert_eq!(h.state().labels(), &original);
    assert_eq!(h.state().editing().expect("editing").edited, fitted);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h);
    assert_eq!(h.state().labels(), &before);
    assert!(
        h.state().editing().is_none(),
        "editing ends with the painting before"
    );
    assert!(
        h.state()
            .notice()
            .is_some_and(|n| n.contains("Stopped editing street.png")),
        "{:?}",
        h.state().notice()
    );
}

#[test]
fn leaving_edit_mode_is_explicit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("street.png");
    wide_photo(&path);
    let mut h = harness(new_app(active(SPADE_E)));
    wait(&mut h);
    apply(&mut h, Command::EditPhoto(Some(path.clone())));
    wait(&mut h);
    assert!(h.state().editing().is_some());
    click(&mut h, scenebrush::ui::STOP_EDITING);
    assert!(h.state().editing().is_none());
    // Opening another layout ends it too, and says so.
    apply(&mut h, Command::EditPhoto(Some(path)));
    wait(&mut h);
    assert!(h.state().editing().is_some());
    let layout = dir.path().join("layout.png");
    scenebrush::io::save_label_ids_png(&layout, &LabelMap::new(256, 192, 3), false)
        .expect("layout");
    apply(&mut h, Command::Open(Some(layout)));
    assert!(h.state().editing().is_none());
    assert!(
        h.state()
            .notice()
            .is_some_and(|n| n.contains("stopped editing street.png")),
        "{:?}",
        h.state().notice()
    );
}

#[test]
fn bad_photos_and_style_files_are_explained_and_nothing_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(new_app(active(SPADE_E)));
    wait(&mut h);
    let painted = h.state().labels().clone();
    let undo = h.state().undo_len();
    let unchanged = |h: &Harness<'_, SceneBrushApp>| {
        assert_eq!(h.state().labels(), &painted, "the painting is kept");
        assert_eq!(h.state().undo_len(), undo);
        assert_eq!(h.state().state().style, StyleChoice::Seed);
        assert!(h.state().editing().is_none());
    };

    // Not an image.
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "not a photo").expect("write");
    apply(&mut h, Command::StyleFromPhoto(Some(text.clone())));
    wait(&mut h);
    let error = take_error(&mut h);
    assert!(error.title.contains("notes.png"), "{error:?}");
    assert!(error.message.contains("PNG or JPEG"), "{error:?}");
    unchanged(&h);

    // A photo too large to decode: as a style and to edit.
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, common::png_declaring(60_000, 60_000)).expect("write");
    apply(&mut h, Command::StyleFromPhoto(Some(huge.clone())));
    wait(&mut h);
    let error = take_error(&mut h);
    assert!(error.title.contains("huge.png"), "{error:?}");
    assert!(error.message.contains("scale the photo down"), "{error:?}");
    unchanged(&h);
    apply(&mut h, Command::EditPhoto(Some(huge.clone())));
    wait(&mut h);
    let error = take_error(&mut h);
    assert!(error.title.contains("Cannot edit huge.png"), "{error:?}");
    assert!(error.message.contains("scale the photo down"), "{error:?}");
    unchanged(&h);
    apply(&mut h, Command::EditPhoto(Some(text)));
    wait(&mut h);
    let error = take_error(&mut h);
    assert!(error.title.contains("notes.png"), "{error:?}");
    unchanged(&h);

    // A style file made for another model: kept in the strip, disabled, with a clear note.
    let other = dir.path().join("other.scenebrush-style.json");
    let vector = StyleVector {
        z: vec![0.25; 8],
        model_id: CCFPSE_E.into(),
        source: Some("x.jpg".into()),
        thumbnail: None,
    };
    SavedStyle::new("ccfpse look", Style::Vector(vector))
        .save(&other, false)
        .expect("style file");
    apply(&mut h, Command::StyleFromPhoto(Some(other.clone())));
    h.step();
    let notice = h.state().notice().expect("a notice").to_string();
    assert!(
        notice.contains("other.scenebrush-style.json") && notice.contains(CCFPSE_E),
        "{notice}"
    );
    assert!(
        h.get_by_label("Style ccfpse look")
            .accesskit_node()
            .is_disabled()
    );
    unchanged(&h);

    // One for a model that is not installed, and one that is not a style file: refused.
    let unknown = dir.path().join("unknown.scenebrush-style.json");
    let text = std::fs::read_to_string(&other)
        .expect("read")
        .replace(CCFPSE_E, "a-model-not-here");
    std::fs::write(&unknown, text).expect("write");
    apply(&mut h, Command::ImportStyle(Some(unknown)));
    let error = take_error(&mut h);
    assert!(
        error.title.contains("unknown.scenebrush-style.json")
            && error.message.contains("a-model-not-here")
            && error.message.contains("not installed"),
        "{error:?}"
    );
    let broken = dir.path().join("broken.scenebrush-style.json");
    std::fs::write(&broken, "{ not json").expect("write");
    apply(&mut h, Command::ImportStyle(Some(broken)));
    let error = take_error(&mut h);
    assert!(
        error.title.contains("broken.scenebrush-style.json")
            && error.message.contains("not valid JSON"),
        "{error:?}"
    );
    assert_eq!(h.state().state().saved_styles.len(), 1);
    unchanged(&h);

    // Nothing to export while no photo is edited.
    apply(
        &mut h,
        Command::Save {
            kind: SaveKind::EditedPhoto,
            path: None,
            overwrite: false,
        },
    );
    let error = take_error(&mut h);
    assert!(error.message.contains("Edit a photo"), "{error:?}");
    assert!(!h.state().dialog_open());
}

#[test]
fn a_chosen_photo_style_comes_back_after_a_restart_or_says_it_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let photo = dir.path().join("street.png");
    std::fs::copy(reference_photo(), &photo).expect("copy the photo");
    let chosen = AppState {
        style: StyleChoice::Photo(photo.clone()),
        seed: 4,
        ..active(SPADE_E)
    };
    let mut h = harness(new_app(chosen.clone()));
    wait(&mut h);
    assert_eq!(h.state().state().style, StyleChoice::Photo(photo.clone()));
    assert_eq!(vector_of(&h, SPADE_E).z, encoded(SPADE_E, &photo).z);

    std::fs::remove_file(&photo).expect("remove the photo");
    let mut h = harness(new_app(chosen));
    wait(&mut h);
    assert_eq!(h.state().state().style, StyleChoice::Seed);
    assert!(
        h.state()
            .notice()
            .is_some_and(|n| n.contains("street.png is gone") && n.contains("seed 4")),
        "{:?}",
        h.state().notice()
    );
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
}

/// `scenebrush --style-photo PHOTO` and `--edit-photo PHOTO` (scripts, screenshots): the app
/// takes the photo's style, or starts editing the photo, once its window is up, as the menu
/// commands do.
#[test]
fn the_command_line_can_start_the_app_in_a_photos_style_or_editing_a_photo() {
    // The app started with these arguments, once its jobs are done and without an error.
    let started = |args: AppArgs| {
        let mut h = harness(SceneBrushApp::new(&args, active(SPADE_E)));
        wait(&mut h);
        assert!(h.state().error().is_none(), "{:?}", h.state().error());
        h
    };
    let photo = reference_photo();
    let h = started(AppArgs {
        style_photo: Some(photo.clone()),
        ..args()
    });
    assert_eq!(h.state().state().style, StyleChoice::Photo(photo.clone()));
    assert_eq!(vector_of(&h, SPADE_E).z, encoded(SPADE_E, &photo).z);
    assert!(h.state().editing().is_none());

    let h = started(AppArgs {
        edit_photo: Some(photo.clone()),
        ..args()
    });
    let session = h.state().editing().expect("editing the photo");
    let original = session.edit.original_layout.clone();
    assert_eq!(h.state().labels(), &original);
    assert_eq!(h.state().state().style, StyleChoice::Photo(photo.clone()));

    // --edit-layout: an edited layout (a rectangle of another class) repaints the photo's, one
    // undo step after it, and the edit goes on with the changed pixels as its mask.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut edited = original.clone();
    let class = (original.get(20, 20).expect("inside") + 1) % 11;
    for y in 10..40 {
        for x in 10..60 {
            edited.set(x, y, class);
        }
    }
    let edited_path = dir.path().join("edited.png");
    scenebrush::io::save_label_ids_png(&edited_path, &edited, false).expect("write the layout");
    let h = started(AppArgs {
        edit_photo: Some(photo.clone()),
        edit_layout: Some(edited_path),
        ..args()
    });
    let session = h.state().editing().expect("still editing the photo");
    assert_eq!(h.state().labels(), &edited);
    let mask = EditMask::from_layouts(&original, &edited).expect("mask");
    assert!(mask.changed_pixels() > 0);
    assert_eq!(session.mask, mask);
    assert!(session.is_current(h.state().layout_version()));

    // --model picks the model painted for; an unknown one is named, with the models found.
    let h = started(AppArgs {
        model: Some(CCFPSE_E.to_string()),
        ..args()
    });
    assert_eq!(h.state().state().active_model.as_deref(), Some(CCFPSE_E));
    let mut h = harness(SceneBrushApp::new(
        &AppArgs {
            model: Some("no-such-model".to_string()),
            ..args()
        },
        active(SPADE_E),
    ));
    wait(&mut h);
    let error = take_error(&mut h);
    assert!(
        error.title.contains("no-such-model") && error.message.contains(CCFPSE_E),
        "{error:?}"
    );
    assert_eq!(h.state().state().active_model.as_deref(), Some(SPADE_E));
}
