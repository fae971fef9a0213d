//! GUI tests: the real app (real ONNX Runtime sessions on the fixture generators) driven through
//! egui_kittest by label and pointer, asserting on the painting, the app state and the files.
//! Rendering is headless (wgpu on Mesa's lavapipe for the snapshots).
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use scenebrush::canvas::{LabelMap, Tool};
use scenebrush::inference::ProviderPreference;
use scenebrush::io::{GridCell, grid_layout};
use scenebrush::ui::{
    AppArgs, AppState, Command, DialogPurpose, PendingDialog, SaveKind, SceneBrushApp, TrainPick,
    View,
};

/// Generous: two sessions load and warm up on a shared 2-core machine.
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);

fn new_app(labels: Option<PathBuf>) -> SceneBrushApp {
    new_app_with(labels, None)
}

fn new_app_with(labels: Option<PathBuf>, session_file: Option<PathBuf>) -> SceneBrushApp {
    common::runtime();
    let args = AppArgs {
        model_dirs: vec![common::fixtures_dir()],
        labels,
        provider: ProviderPreference::Cpu,
        session_file,
        ..Default::default()
    };
    SceneBrushApp::new(&args, AppState::default())
}

fn harness(app: SceneBrushApp) -> Harness<'static, SceneBrushApp> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(move |_cc| app)
}

/// Steps the UI until every model on screen shows the current layout and seed. Polls the
/// worker's events; fails with the models' state after the timeout.
fn wait_for_renders(h: &mut Harness<'_, SceneBrushApp>) {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        if app.settled() {
            return;
        }
        if start.elapsed() > RENDER_TIMEOUT {
            let status = app.models_status();
            panic!("renders did not arrive within {RENDER_TIMEOUT:?}: {status:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn screen(h: &Harness<'_, SceneBrushApp>, p: (f32, f32)) -> Pos2 {
    h.state().canvas_to_screen(p.0, p.1)
}

/// A press-move-release gesture on the canvas between label-map positions.
fn drag(h: &mut Harness<'_, SceneBrushApp>, from: (f32, f32), to: (f32, f32)) {
    let (a, b) = (screen(h, from), screen(h, to));
    h.hover_at(a);
    h.step();
    h.drag_at(a);
    h.step();
    for i in 1..=10 {
        h.hover_at(a.lerp(b, i as f32 / 10.0));
        h.step();
    }
    h.drop_at(b);
    h.step();
}

fn click_canvas(h: &mut Harness<'_, SceneBrushApp>, p: (f32, f32)) {
    let a = screen(h, p);
    h.hover_at(a);
    h.step();
    h.drag_at(a);
    h.step();
    h.drop_at(a);
    h.step();
}

fn click(h: &mut Harness<'_, SceneBrushApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Carries out a command as if a view had pushed it (no frame is run).
fn apply(h: &mut Harness<'_, SceneBrushApp>, c: Command) {
    let ctx = h.ctx.clone();
    h.state_mut().apply_commands(&ctx, vec![c]);
}

/// The error shown, dismissed as the Dismiss button does.
fn take_error(h: &mut Harness<'_, SceneBrushApp>) -> scenebrush::ui::ErrorReport {
    let error = h.state().error().cloned().expect("an error report");
    apply(h, Command::DismissError);
    error
}

fn labels(h: &Harness<'_, SceneBrushApp>) -> LabelMap {
    h.state().labels().clone()
}

fn class_id(h: &Harness<'_, SceneBrushApp>, name: &str) -> u8 {
    h.state()
        .class_id(name)
        .unwrap_or_else(|| panic!("the fixture models have no class {name}"))
}

/// Some text on screen (a label's value) contains `text`.
fn has_text(h: &Harness<'_, SceneBrushApp>, text: &str) -> bool {
    h.query_all_by(|n| {
        n.value().is_some_and(|v| v.contains(text)) || n.label().is_some_and(|l| l.contains(text))
    })
    .next()
    .is_some()
}

fn at(map: &LabelMap, x: u32, y: u32) -> u8 {
    map.get(x, y).expect("inside the map")
}

#[test]
fn starts_with_an_example_layout_and_renders_it() {
    let mut h = harness(new_app(None));
    wait_for_renders(&mut h);
    let app = h.state();
    let source = app
        .layout_source()
        .map(Path::to_path_buf)
        .expect("an example layout");
    assert!(source.starts_with(common::repo_dir().join("assets/layouts")));
    let active = app.state().active_model.clone().expect("an active model");
    let result = app.result(&active).expect("an image");
    let meta = &app.package(&active).expect("package").meta;
    assert_eq!(
        (result.image.width(), result.image.height()),
        (meta.width, meta.height)
    );
    // Not a blank image: an untrained generator still varies over the picture.
    let first = result.image.get_pixel(0, 0).0;
    assert!(result.image.pixels().any(|p| p.0 != first));
    // The status bar names the execution provider of the active model.
    h.get_by_label_contains(": CPU");
}

#[test]
fn brush_stroke_paints_where_dragged_and_renders_on_stroke_end() {
    let mut h = harness(new_app(None));
    wait_for_renders(&mut h);
    click(&mut h, "Brush");
    assert_eq!(h.state().state().tool, Tool::Brush);
    let car = class_id(&h, "Car");
    click(&mut h, "Car");
    assert_eq!(h.state().state().active_class, car);
    apply(&mut h, Command::SetBrushSize(8.0));

    let before = labels(&h);
    let version_before = h.state().layout_version();
    // A horizontal stroke across the top of the canvas (sky and buildings in the examples).
    drag(&mut h, (40.5, 20.5), (200.5, 20.5));
    let after = labels(&h);
    for x in [41, 80, 120, 160, 199] {
        assert_eq!(at(&after, x, 20), car, "pixel ({x}, 20) not painted");
        assert_eq!(at(&after, x, 17), car, "pixel ({x}, 17) not painted");
    }
    // Far from the stroke nothing changed.
    for (x, y) in [(10, 150), (250, 190), (128, 100)] {
        assert_eq!(
            at(&after, x, y),
            at(&before, x, y),
            "pixel ({x}, {y}) changed"
        );
    }
    assert_eq!(h.state().undo_len(), 1, "one stroke is one undo step");
    assert!(!h.state().stroke_in_progress(), "the stroke ended");

    // The stroke end sends the final layout; the new image belongs to it.
    wait_for_renders(&mut h);
    let app = h.state();
    let active = app.state().active_model.clone().expect("active");
    let result = app.result(&active).expect("image");
    assert!(result.key.version > version_before);
    assert_eq!(result.key.version, app.layout_version());
}

#[test]
fn fill_tool_undo_and_redo() {
    let mut h = harness(new_app(None));
    h.step();
    click(&mut h, "Fill");
    assert_eq!(h.state().state().tool, Tool::Fill);
    let tree = class_id(&h, "Tree");
    click(&mut h, "Tree");
    let before = labels(&h);
    let (x, y) = (128u32, 2u32);
    let region_class = at(&before, x, y);
    assert_ne!(region_class, tree);
    click_canvas(&mut h, (x as f32 + 0.5, y as f32 + 0.5));
    let filled = labels(&h);
    assert_eq!(at(&filled, x, y), tree);
    // Every changed pixel was of the clicked class and is now the fill class.
    let changed: usize = before
        .data()
        .iter()
        .zip(filled.data())
        .filter(|(a, b)| a != b)
        .inspect(|(a, b)| {
            assert_eq!(**a, region_class);
            assert_eq!(**b, tree);
        })
        .count();
    assert!(changed > 100, "the fill changed only {changed} pixels");

    // Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo, the buttons too.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(labels(&h), before);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.step();
    assert_eq!(labels(&h), filled);
    click(&mut h, "Undo");
    assert_eq!(labels(&h), before);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.step();
    assert_eq!(labels(&h), filled);
}

#[test]
fn line_rectangle_eyedropper_and_eraser() {
    let mut h = harness(new_app(None));
    h.step();
    let road = class_id(&h, "Road");
    let pole = class_id(&h, "Pole");
    let void = h
        .state()
        .dontcare()
        .expect("the fixtures have a don't-care class");

    click(&mut h, "Pole");
    click(&mut h, "Line");
    apply(&mut h, Command::SetBrushSize(3.0));
    drag(&mut h, (20.5, 30.5), (20.5, 120.5));
    let map = labels(&h);
    for y in [30, 60, 90, 120] {
        assert_eq!(at(&map, 20, y), pole, "line misses (20, {y})");
    }

    click(&mut h, "Road");
    click(&mut h, "Rectangle");
    let before = labels(&h);
    drag(&mut h, (100.5, 20.5), (140.5, 50.5));
    let map = labels(&h);
    for (x, y) in [(100, 20), (140, 50), (120, 35), (100, 50)] {
        assert_eq!(at(&map, x, y), road, "rectangle misses ({x}, {y})");
    }
    for (x, y) in [(99, 35), (141, 35), (120, 19), (120, 51)] {
        assert_eq!(
            at(&map, x, y),
            at(&before, x, y),
            "rectangle spills to ({x}, {y})"
        );
    }

    // The eyedropper picks the class under the pointer.
    click(&mut h, "Eyedropper");
    click(&mut h, "Car");
    click_canvas(&mut h, (20.5, 60.5));
    assert_eq!(h.state().state().active_class, pole);

    // The eraser paints the don't-care class.
    click(&mut h, "Eraser");
    apply(&mut h, Command::SetBrushSize(6.0));
    drag(&mut h, (120.5, 35.5), (125.5, 35.5));
    assert_eq!(at(&labels(&h), 122, 35), void);
    assert_eq!(h.state().undo_len(), 3);
}

#[test]
fn keyboard_shortcuts() {
    let mut h = harness(new_app(None));
    h.step();
    for (key, tool) in [
        (Key::F, Tool::Fill),
        (Key::L, Tool::Line),
        (Key::R, Tool::Rect),
        (Key::I, Tool::Eyedropper),
        (Key::E, Tool::Eraser),
        (Key::B, Tool::Brush),
    ] {
        h.key_press(key);
        h.step();
        assert_eq!(h.state().state().tool, tool, "{key:?}");
    }
    let size = h.state().state().brush_size;
    h.key_press(Key::CloseBracket);
    h.step();
    assert!(h.state().state().brush_size > size);
    for _ in 0..2 {
        h.key_press(Key::OpenBracket);
        h.step();
    }
    assert!(h.state().state().brush_size < size);
    h.key_press(Key::Num4);
    h.step();
    assert_eq!(h.state().state().active_class, 3);

    // N draws a new seed unless the seed is locked.
    let seed = h.state().state().seed;
    h.key_press(Key::N);
    h.step();
    let new_seed = h.state().state().seed;
    assert_ne!(new_seed, seed);
    click(&mut h, "Lock");
    assert!(h.state().state().seed_locked);
    h.key_press(Key::N);
    h.step();
    assert_eq!(h.state().state().seed, new_seed);
}

#[test]
fn switching_the_model_renders_with_it() {
    let mut h = harness(new_app(None));
    wait_for_renders(&mut h);
    let first = h.state().state().active_model.clone().expect("active");
    let other = common::FIXTURES
        .iter()
        .find(|id| **id != first)
        .expect("two fixtures")
        .to_string();
    let other_name = h.state().model_name(&other);
    click(&mut h, &other_name);
    assert_eq!(
        h.state().state().active_model.as_deref(),
        Some(other.as_str())
    );
    wait_for_renders(&mut h);
    let app = h.state();
    assert!(app.result(&other).is_some());
    h.get_by_label(&format!("Result of {other_name}"));
}

#[test]
fn compare_view_shows_two_models_on_one_layout_and_seed() {
    let mut h = harness(new_app(None));
    h.step();
    click(&mut h, "Compare");
    assert_eq!(h.state().state().view, View::Compare);
    let chosen = h.state().state().compare_models.clone();
    assert_eq!(chosen.len(), 2, "two models are chosen by default");
    wait_for_renders(&mut h);
    let app = h.state();
    let key = app.render_key();
    for id in &chosen {
        let result = app.result(id).expect("image");
        assert_eq!(result.key, key, "{id} shows another layout or seed");
    }
    // Two different networks give two different pictures of the same layout.
    let a = &app.result(&chosen[0]).expect("a").image;
    let b = &app.result(&chosen[1]).expect("b").image;
    assert_ne!(a.as_raw(), b.as_raw());
    for id in &chosen {
        let name = app.model_name(id);
        h.get_by_label(&format!("Result of {name}"));
        assert!(has_text(&h, &name), "no caption {name}");
    }
    // Captions name architecture and discriminator.
    assert!(has_text(&h, "SPADE · FPSE discriminator"));
    assert!(has_text(&h, "CC-FPSE · FPSE discriminator"));

    // Unticking one leaves one; the grid export then waits for a second model.
    let name0 = h.state().model_name(&chosen[0]);
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, &name0)
        .click();
    h.step();
    h.step();
    assert_eq!(h.state().state().compare_models, vec![chosen[1].clone()]);
    assert!(!h.state().compare_ready());
}

/// The active model's image on screen.
fn shown_image(h: &Harness<'_, SceneBrushApp>) -> image::RgbaImage {
    let app = h.state();
    let active = app.state().active_model.as_ref().expect("an active model");
    app.result(active)
        .expect("an image on screen")
        .image
        .clone()
}

/// Mean absolute difference per channel (0..255) of two images of one size.
fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

/// Quality-92 JPEG of the fixture generator's image: 1.21 levels measured (lavapipe machine,
/// 2026-12-01); the export test checks that another image is far above.
const JPEG_TOLERANCE: f64 = 3.0;

fn read_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

fn save(h: &mut Harness<'_, SceneBrushApp>, kind: SaveKind, path: &Path, overwrite: bool) {
    let ctx = h.ctx.clone();
    h.state_mut().apply_commands(
        &ctx,
        vec![Command::Save {
            kind,
            path: Some(path.to_path_buf()),
            overwrite,
        }],
    );
    // Windows and modals appear after a sizing frame.
    h.step();
    h.step();
}

#[test]
fn exports_image_layouts_and_grid_and_asks_before_replacing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(new_app(None));
    wait_for_renders(&mut h);
    let (w, h_px) = {
        let d = h.state().labels();
        (d.width(), d.height())
    };

    // The exported files hold the image on screen: the PNG exactly, the JPEG within its
    // compression error.
    let shown = shown_image(&h);
    let png = dir.path().join("scene.png");
    save(&mut h, SaveKind::Image, &png, false);
    let bytes = std::fs::read(&png).expect("read");
    assert_eq!(
        image::guess_format(&bytes).ok(),
        Some(image::ImageFormat::Png)
    );
    let exported = image::load_from_memory(&bytes).expect("decode").to_rgba8();
    assert_eq!(exported.dimensions(), (w, h_px));
    assert!(exported.as_raw() == shown.as_raw(), "the PNG differs");
    let jpg = dir.path().join("scene.jpg");
    save(&mut h, SaveKind::Image, &jpg, false);
    let bytes = std::fs::read(&jpg).expect("read");
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "not JPEG data");
    let exported = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .expect("decode")
        .to_rgb8();
    assert_eq!(exported.dimensions(), (w, h_px));
    let diff = mean_abs_diff(&exported, &image::DynamicImage::ImageRgba8(shown).to_rgb8());
    eprintln!("JPEG export: mean abs diff {diff:.3}");
    assert!(
        diff < JPEG_TOLERANCE,
        "the JPEG is {diff} levels off on average"
    );
    // The check tells images apart: the layout in class colours is far off.
    let app = h.state();
    let other =
        image::DynamicImage::ImageRgba8(app.labels().to_color_image(app.palette())).to_rgb8();
    let far = mean_abs_diff(&exported, &other);
    assert!(
        far > 4.0 * JPEG_TOLERANCE,
        "another image is only {far} off"
    );

    let ids = dir.path().join("layout.png");
    save(&mut h, SaveKind::LayoutIds, &ids, false);
    let app = h.state();
    let back = scenebrush::io::load_label_png(&ids, app.classes(), app.dontcare()).expect("reload");
    assert_eq!(back, *app.labels());
    let colors = dir.path().join("layout-colours.png");
    save(&mut h, SaveKind::LayoutColors, &colors, false);
    let app = h.state();
    let back =
        scenebrush::io::load_label_png(&colors, app.classes(), app.dontcare()).expect("reload");
    assert_eq!(back, *app.labels());
    assert!(h.state().error().is_none(), "{:?}", h.state().error());

    // Ctrl+Shift+E before the compare view has images: an explanation, not an empty dialog.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::E);
    h.step();
    let error = take_error(&mut h);
    assert_eq!(error.title, "Nothing to export yet");
    assert!(!h.state().dialog_open());

    // The grid: the compare view's two images with captions.
    click(&mut h, "Compare");
    wait_for_renders(&mut h);
    let grid = dir.path().join("grid.png");
    save(&mut h, SaveKind::Grid, &grid, false);
    let cells: Vec<GridCell> = h.state().grid_cells().expect("cells");
    assert_eq!(cells.len(), 2);
    let layout = grid_layout(&cells);
    assert_eq!(read_size(&grid), (layout.width, layout.height));
    assert!(layout.width > 2 * w, "two images side by side");

    // Saving over an existing file asks first and leaves it untouched until confirmed.
    let original = std::fs::read(&ids).expect("read");
    let car = class_id(&h, "Car");
    apply(&mut h, Command::SelectClass(car));
    click(&mut h, "Fill");
    click_canvas(&mut h, (128.5, 2.5));
    save(&mut h, SaveKind::LayoutIds, &ids, false);
    assert!(
        h.state().overwrite_question().is_some(),
        "no question asked"
    );
    assert_eq!(
        std::fs::read(&ids).expect("read"),
        original,
        "replaced without asking"
    );
    click(&mut h, "Cancel");
    assert!(h.state().overwrite_question().is_none());
    assert_eq!(std::fs::read(&ids).expect("read"), original);
    save(&mut h, SaveKind::LayoutIds, &ids, false);
    click(&mut h, "Replace");
    let app = h.state();
    let back = scenebrush::io::load_label_png(&ids, app.classes(), app.dontcare()).expect("reload");
    assert_eq!(back, *app.labels());
    assert_ne!(std::fs::read(&ids).expect("read"), original);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ![
                "scene.png",
                "scene.jpg",
                "layout.png",
                "layout-colours.png",
                "grid.png",
            ]
            .contains(&n.as_str())
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_files_are_reported_and_the_painting_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(new_app(None));
    h.step();
    // Paint something first: it must survive the failed imports.
    click(&mut h, "Rectangle");
    drag(&mut h, (10.5, 10.5), (60.5, 40.5));
    let painted = labels(&h);
    let steps = h.state().undo_len();

    // Class ids the model does not know.
    let (w, hh) = (painted.width(), painted.height());
    let mut ids = image::GrayImage::from_pixel(w, hh, image::Luma([0]));
    for x in 0..20 {
        ids.put_pixel(x, 0, image::Luma([200]));
    }
    ids.put_pixel(5, 5, image::Luma([77]));
    let bad_ids = dir.path().join("bad-ids.png");
    ids.save(&bad_ids).expect("write");
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply_commands(&ctx, vec![Command::Open(Some(bad_ids.clone()))]);
    h.step();
    h.step();
    let error = h.state().error().cloned().expect("an error report");
    assert!(error.title.contains("bad-ids.png"), "{error:?}");
    assert!(error.message.contains("200 (20 pixels)"), "{error:?}");
    assert!(error.message.contains("77 (1 pixel)"), "{error:?}");
    assert_eq!(labels(&h), painted);
    assert_eq!(h.state().undo_len(), steps);
    // The error panel shows the message and can be dismissed; painting goes on meanwhile.
    assert!(
        has_text(&h, "200 (20 pixels)"),
        "the error panel shows the ids"
    );
    click(&mut h, "Dismiss");
    assert!(h.state().error().is_none());

    // Colours that are no class, and a file that is no PNG at all.
    let mut rgb = image::RgbImage::from_pixel(w, hh, image::Rgb([128, 128, 128]));
    rgb.put_pixel(3, 3, image::Rgb([1, 2, 3]));
    let bad_colors = dir.path().join("bad-colours.png");
    rgb.save(&bad_colors).expect("write");
    let not_png = dir.path().join("notes.txt");
    std::fs::write(&not_png, "hello").expect("write");
    for (path, needle) in [(&bad_colors, "#010203"), (&not_png, "is not a PNG")] {
        h.state_mut()
            .apply_commands(&ctx, vec![Command::Open(Some(path.clone()))]);
        h.step();
        let error = take_error(&mut h);
        assert!(error.message.contains(needle), "{error:?}");
        assert_eq!(labels(&h), painted);
    }

    // A good file dropped on the window opens as one undoable step.
    let good = dir.path().join("good.png");
    scenebrush::io::save_label_ids_png(&good, &LabelMap::new(w, hh, 3), false).expect("write");
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(common::PathFile(good.clone())));
    h.step();
    h.step();
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert!(labels(&h).data().iter().all(|&v| v == 3));
    assert_eq!(h.state().layout_source(), Some(good.as_path()));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(labels(&h), painted);
}

#[test]
fn unavailable_models_are_listed_with_their_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good");
    common::copy_package(&common::fixtures_dir().join(common::FIXTURES[0]), &good);
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(broken.join("model.json"), "{ not json").expect("write");
    let corrupt = dir.path().join("corrupt");
    common::copy_package(&common::fixtures_dir().join(common::FIXTURES[1]), &corrupt);
    std::fs::write(corrupt.join("model.onnx"), b"garbage").expect("write");

    common::runtime();
    let args = AppArgs {
        model_dirs: vec![dir.path().to_path_buf()],
        labels: None,
        provider: ProviderPreference::Cpu,
        session_file: None,
        ..Default::default()
    };
    let mut h = harness(SceneBrushApp::new(&args, AppState::default()));
    wait_for_renders(&mut h);
    let app = h.state();
    assert_eq!(
        app.state().active_model.as_deref(),
        Some(common::FIXTURES[0])
    );
    assert!(app.is_usable(common::FIXTURES[0]));
    assert!(!app.is_usable(common::FIXTURES[1]));
    let reason = app.unusable_reason(common::FIXTURES[1]).expect("a reason");
    assert!(reason.contains("model.onnx"), "{reason}");
    assert!(app.unusable_reason("broken").is_some());
    // Listed, greyed out; the working model still renders.
    let corrupt_name = app.model_name(common::FIXTURES[1]);
    assert!(h.get_by_label(&corrupt_name).accesskit_node().is_disabled());
    h.get_by_label("broken");
    assert!(app.result(common::FIXTURES[0]).is_some());
}

fn fixed_timings(h: &mut Harness<'_, SceneBrushApp>) {
    // Latencies differ from run to run; pin them so the snapshots compare the layout.
    h.state_mut().pin_timings(42.0, 100.0);
    h.remove_cursor();
    h.step();
    h.step();
    // The synthesized pictures depend on the fixture weights and on ONNX Runtime's CPU kernels
    // (other machines differ in the last bits); other tests check them. Mask them here so the
    // snapshots compare the window itself.
    let rects: Vec<egui::Rect> = h
        .query_all_by_label_contains("Result of ")
        .map(|n| n.rect())
        .collect();
    assert!(!rects.is_empty(), "no result image on screen");
    for rect in rects {
        h.mask(rect);
    }
}

#[test]
fn snapshots_of_the_main_window() {
    let layout = common::repo_dir().join("assets/layouts/city_street.png");
    let mut h = harness(new_app(Some(layout)));
    wait_for_renders(&mut h);
    click(&mut h, "Car");
    apply(&mut h, Command::SetBrushSize(10.0));
    drag(&mut h, (30.5, 170.5), (90.5, 160.5));
    wait_for_renders(&mut h);
    fixed_timings(&mut h);
    h.snapshot("main_window_paint");

    click(&mut h, "Compare");
    wait_for_renders(&mut h);
    fixed_timings(&mut h);
    h.snapshot("main_window_compare");
}

#[test]
fn zoom_and_pan_the_canvas() {
    let mut h = harness(new_app(None));
    h.step();
    h.step();
    let fit = h.state().canvas_zoom();
    assert!(h.state().state().zoom_fit);
    click(&mut h, "+");
    assert!(!h.state().state().zoom_fit);
    assert!((h.state().state().zoom - fit * 1.25).abs() < 1e-3);
    click(&mut h, "Fit");
    assert!(h.state().state().zoom_fit);

    // The wheel zooms around the pointer: the map point under it stays put.
    let anchor_map = (64.0, 48.0);
    let anchor = screen(&h, anchor_map);
    h.hover_at(anchor);
    h.step();
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, 120.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: Modifiers::NONE,
    });
    for _ in 0..30 {
        h.step();
    }
    assert!(h.state().state().zoom > fit * 1.05, "wheel did not zoom in");
    let moved = screen(&h, anchor_map) - anchor;
    assert!(
        moved.length() < 2.0,
        "the point under the pointer moved by {moved:?}"
    );

    // Middle drag pans by the pointer's movement.
    let pan = h.state().canvas_pan();
    let start = screen(&h, (128.0, 96.0));
    let end = start + egui::vec2(60.0, -30.0);
    h.hover_at(start);
    h.step();
    h.event(egui::Event::PointerButton {
        pos: start,
        button: egui::PointerButton::Middle,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    for i in 1..=6 {
        h.hover_at(start.lerp(end, i as f32 / 6.0));
        h.step();
    }
    h.event(egui::Event::PointerButton {
        pos: end,
        button: egui::PointerButton::Middle,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.step();
    let panned = h.state().canvas_pan() - pan;
    assert!(
        (panned - egui::vec2(60.0, -30.0)).length() < 1.5,
        "panned {panned:?}"
    );
    assert_eq!(h.state().undo_len(), 0, "panning painted");
}

#[test]
fn typed_seed_reproduces_and_new_style_changes_the_image() {
    let mut h = harness(new_app(None));
    wait_for_renders(&mut h);
    let active = h.state().state().active_model.clone().expect("active");
    let image_of =
        |h: &Harness<'_, SceneBrushApp>| h.state().result(&active).expect("image").image.clone();
    let seed0 = image_of(&h);

    // Type a seed into the seed field.
    h.get_by_label("Seed").click();
    h.step();
    h.step();
    h.event(egui::Event::Key {
        key: Key::A,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: Modifiers::COMMAND,
    });
    h.event(egui::Event::Text("1234".into()));
    h.step();
    h.key_press(Key::Enter);
    h.step();
    h.step();
    assert_eq!(h.state().state().seed, 1234);
    wait_for_renders(&mut h);
    let seed1234 = image_of(&h);
    assert_ne!(
        seed1234.as_raw(),
        seed0.as_raw(),
        "the seed changes the style"
    );

    // New style draws another seed; typing the old one back reproduces the old image.
    click(&mut h, "New style");
    assert_ne!(h.state().state().seed, 1234);
    wait_for_renders(&mut h);
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply_commands(&ctx, vec![Command::SetSeed(1234)]);
    wait_for_renders(&mut h);
    assert_eq!(image_of(&h).as_raw(), seed1234.as_raw());
}

#[test]
fn a_bad_start_layout_is_reported_and_an_example_opens_instead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wrong_aspect = dir.path().join("square.png");
    scenebrush::io::save_label_ids_png(&wrong_aspect, &LabelMap::new(64, 64, 0), false)
        .expect("write");
    let mut h = harness(new_app(Some(wrong_aspect)));
    h.step();
    h.step();
    let app = h.state();
    let error = app.error().cloned().expect("an error report");
    assert!(error.message.contains("square.png"), "{error:?}");
    assert!(error.message.contains("64x64"), "{error:?}");
    let source = app
        .layout_source()
        .map(Path::to_path_buf)
        .expect("an example instead");
    assert!(source.starts_with(common::repo_dir().join("assets/layouts")));
    assert!(has_text(&h, "aspect ratios differ"));
}

#[test]
fn the_painting_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = dir.path().join("session").join("layout.png");
    let mut h = harness(new_app_with(None, Some(session.clone())));
    h.step();
    click(&mut h, "Brush");
    click(&mut h, "Car");
    apply(&mut h, Command::SetBrushSize(8.0));
    drag(&mut h, (40.5, 20.5), (200.5, 20.5));
    let painted = labels(&h);
    // What eframe does every 30 s and on exit; nothing is written again while nothing changes.
    assert!(h.state_mut().save_session().expect("session saved"));
    assert!(!h.state_mut().save_session().expect("no change"));
    drop(h);

    let mut h = harness(new_app_with(None, Some(session.clone())));
    h.step();
    assert_eq!(
        labels(&h),
        painted,
        "the restored layout is the painted one"
    );
    assert!(h.state().layout_source().is_none());
    assert!(has_text(
        &h,
        "Restored the layout you were painting last time"
    ));
}

#[test]
fn an_unreadable_session_layout_is_kept_aside_and_an_example_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = dir.path().join("layout.png");
    // Ids the fixture models do not have (another model's classes, say).
    scenebrush::io::save_label_ids_png(&session, &LabelMap::new(256, 192, 200), false)
        .expect("write");
    let original = std::fs::read(&session).expect("read");
    let mut h = harness(new_app_with(None, Some(session.clone())));
    h.step();
    let app = h.state();
    let source = app
        .layout_source()
        .map(Path::to_path_buf)
        .expect("an example instead");
    assert!(source.starts_with(common::repo_dir().join("assets/layouts")));
    let aside = dir.path().join("layout-not-restored.png");
    assert_eq!(std::fs::read(&aside).expect("kept aside"), original);
    assert!(has_text(&h, "could not be restored"));
    // The next save writes the current layout; the old one stays aside.
    assert!(h.state_mut().save_session().expect("session saved"));
    assert_eq!(std::fs::read(&aside).expect("still there"), original);
    let saved =
        scenebrush::io::load_label_png(&session, h.state().classes(), None).expect("readable");
    assert_eq!(saved, labels(&h));
}

/// Hands the app a native dialog's answer as the dialog thread would: `Some(answer)` is sent
/// (`None` inside is Cancel); `None` ends the thread without an answer.
fn answer_dialog(
    h: &mut Harness<'_, SceneBrushApp>,
    purpose: DialogPurpose,
    answer: Option<Option<PathBuf>>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    h.state_mut().await_dialog(PendingDialog::new(purpose, rx));
    if let Some(answer) = answer {
        tx.send(answer).expect("send");
    }
    drop(tx);
    h.step();
    h.step();
    assert!(!h.state().dialog_open(), "the answer was not taken");
}

#[test]
fn file_dialog_answers_are_handled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(new_app(None));
    wait_for_renders(&mut h);
    let before = labels(&h);
    let (w, hh) = (before.width(), before.height());

    // Cancel: nothing changes and nothing is reported.
    answer_dialog(&mut h, DialogPurpose::Open, Some(None));
    assert!(h.state().error().is_none());
    assert_eq!(labels(&h), before);
    assert_eq!(h.state().undo_len(), 0);
    // The dialog's thread ended without an answer (no portal, no zenity).
    answer_dialog(&mut h, DialogPurpose::Save(SaveKind::LayoutIds), None);
    let error = take_error(&mut h);
    assert_eq!(error.title, "The file dialog failed");
    assert!(error.message.contains("zenity"), "{error:?}");

    // A chosen layout opens as one undo step.
    let good = dir.path().join("good.png");
    scenebrush::io::save_label_ids_png(&good, &LabelMap::new(w, hh, 3), false).expect("write");
    answer_dialog(&mut h, DialogPurpose::Open, Some(Some(good.clone())));
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert!(labels(&h).data().iter().all(|&v| v == 3));
    assert_eq!(h.state().layout_source(), Some(good.as_path()));
    let opened = labels(&h);
    // A name typed past the PNG filter, and a folder dropped on the window: refused, named.
    let jpg = dir.path().join("photo.jpg");
    std::fs::write(&jpg, b"\xFF\xD8\xFF").expect("write");
    answer_dialog(&mut h, DialogPurpose::Open, Some(Some(jpg)));
    assert!(
        take_error(&mut h)
            .message
            .contains("photo.jpg is not a PNG")
    );
    let folder = dir.path().join("layouts");
    std::fs::create_dir(&folder).expect("mkdir");
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(common::PathFile(folder.clone())));
    h.step();
    h.step();
    let error = take_error(&mut h);
    assert!(error.message.contains("layouts is a folder"), "{error:?}");
    assert!(!error.message.contains("not a PNG"), "{error:?}");
    assert_eq!(labels(&h), opened);

    // Save: a name typed without an extension gets .png.
    let typed = dir.path().join("typed");
    answer_dialog(
        &mut h,
        DialogPurpose::Save(SaveKind::LayoutIds),
        Some(Some(typed.clone())),
    );
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    assert!(!typed.exists());
    let app = h.state();
    let saved = dir.path().join("typed.png");
    let back =
        scenebrush::io::load_label_png(&saved, app.classes(), app.dontcare()).expect("saved");
    assert_eq!(back, *app.labels());
    // The dialog asked about "typed", not about the existing "typed.png": the app asks.
    let original = std::fs::read(&saved).expect("read");
    answer_dialog(
        &mut h,
        DialogPurpose::Save(SaveKind::LayoutIds),
        Some(Some(typed)),
    );
    let question = h.state().overwrite_question().cloned().expect("a question");
    assert_eq!(question.path, saved);
    click(&mut h, "Cancel");
    assert_eq!(std::fs::read(&saved).expect("read"), original);
    // A layout under a name that is no PNG, an image of an unknown type: refused, not written.
    let layout_jpg = dir.path().join("layout.jpg");
    answer_dialog(
        &mut h,
        DialogPurpose::Save(SaveKind::LayoutColors),
        Some(Some(layout_jpg.clone())),
    );
    assert!(
        take_error(&mut h)
            .message
            .contains("layout.jpg is not a .png name")
    );
    assert!(!layout_jpg.exists());
    let bmp = dir.path().join("scene.bmp");
    answer_dialog(
        &mut h,
        DialogPurpose::Save(SaveKind::Image),
        Some(Some(bmp.clone())),
    );
    assert!(take_error(&mut h).message.contains("unknown image type"));
    assert!(!bmp.exists());
    // An existing file chosen in the dialog: the dialog asked, so it is replaced.
    let png = dir.path().join("scene.png");
    std::fs::write(&png, b"old").expect("write");
    answer_dialog(
        &mut h,
        DialogPurpose::Save(SaveKind::Image),
        Some(Some(png.clone())),
    );
    assert!(h.state().overwrite_question().is_none());
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
    let exported = image::open(&png).expect("an image").to_rgba8();
    assert!(exported.as_raw() == shown_image(&h).as_raw());

    // The Train tab's picks: a class file is taken; Cancel keeps the folder unset.
    let classes = dir.path().join("classes.json");
    answer_dialog(
        &mut h,
        DialogPurpose::Train(TrainPick::ClassFile),
        Some(Some(classes.clone())),
    );
    assert_eq!(
        h.state().state().train.class_file.as_deref(),
        Some(classes.as_path())
    );
    let labels_before = h.state().state().train.labels.clone();
    answer_dialog(&mut h, DialogPurpose::Train(TrainPick::Labels), Some(None));
    assert_eq!(h.state().state().train.labels, labels_before);
    assert!(h.state().error().is_none(), "{:?}", h.state().error());
}

/// A session layout the fixture models cannot read (ids they do not have).
fn write_bad_session(path: &Path, id: u8) -> Vec<u8> {
    std::fs::remove_file(path).ok();
    scenebrush::io::save_label_ids_png(path, &LabelMap::new(256, 192, id), false).expect("write");
    std::fs::read(path).expect("read")
}

#[test]
fn two_unreadable_sessions_in_a_row_keep_both_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = dir.path().join("layout.png");
    let first = write_bad_session(&session, 200);
    drop(harness(new_app_with(None, Some(session.clone()))));
    let second = write_bad_session(&session, 201);
    let mut h = harness(new_app_with(None, Some(session.clone())));
    h.step();
    let kept_first = dir.path().join("layout-not-restored.png");
    let kept_second = dir.path().join("layout-not-restored-2.png");
    assert_eq!(std::fs::read(&kept_first).expect("first kept"), first);
    assert_eq!(std::fs::read(&kept_second).expect("second kept"), second);
    assert!(!session.exists());
    let notice = h.state().notice().map(str::to_string).expect("a notice");
    assert!(notice.contains("layout-not-restored-2.png"), "{notice}");
}

#[test]
fn a_session_layout_declaring_a_huge_size_does_not_stop_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let session = dir.path().join("layout.png");
    let huge = common::png_declaring(60_000, 60_000);
    std::fs::write(&session, &huge).expect("write");
    let start = Instant::now();
    let mut h = harness(new_app_with(None, Some(session.clone())));
    h.step();
    eprintln!("started in {:?}", start.elapsed());
    let app = h.state();
    let source = app
        .layout_source()
        .map(Path::to_path_buf)
        .expect("an example instead");
    assert!(source.starts_with(common::repo_dir().join("assets/layouts")));
    let aside = dir.path().join("layout-not-restored.png");
    assert_eq!(std::fs::read(&aside).expect("kept aside"), huge);
    let notice = app.notice().map(str::to_string).expect("a notice");
    assert!(
        notice.contains("60000x60000") && notice.contains("at most"),
        "{notice}"
    );
}
