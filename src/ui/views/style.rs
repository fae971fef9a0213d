//! The style controls: the chosen style (a photo's thumbnail, or the seed), the seed, "New
//! style", "Style from photo…", "Save style…", and the strip of kept styles as previews of the
//! current layout.

use egui::{Color32, Rect, RichText, Sense, Stroke, StrokeKind, Ui, vec2};

use crate::style::{SavedStyle, Style};
use crate::ui::resources::{ModelStyle, Resources, fingerprint, vector_fingerprint};
use crate::ui::state::{AppState, Command, MAX_DRAWN_SEED, StyleChoice, View};

use super::memory::ViewMemory;
use super::shortcuts;

/// Size of a kept style's card (its preview).
const CARD: egui::Vec2 = vec2(96.0, 72.0);
/// Size of the chosen style's thumbnail.
const ACTIVE: egui::Vec2 = vec2(64.0, 48.0);

/// Label of the "Style from photo…" button (tests find it by it).
pub const STYLE_FROM_PHOTO: &str = "Style from photo…";
/// Label of the "Save style…" button.
pub const SAVE_STYLE: &str = "Save style…";

/// A few colours drawn from the seed: the seed's "thumbnail".
fn paint_seed_swatch(painter: &egui::Painter, rect: Rect, seed: u64) {
    use std::hash::{Hash, Hasher};
    let (cols, rows) = (4, 3);
    let cell = vec2(rect.width() / cols as f32, rect.height() / rows as f32);
    for i in 0..cols * rows {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (seed, i).hash(&mut hasher);
        let [r, g, b, ..] = hasher.finish().to_le_bytes();
        let min = rect.min + vec2((i % cols) as f32 * cell.x, (i / cols) as f32 * cell.y);
        // Muted: it stands for noise, not for colours the image will have.
        let mute = |c: u8| 60 + c / 2;
        painter.rect_filled(
            Rect::from_min_size(min, cell),
            0.0,
            Color32::from_rgb(mute(r), mute(g), mute(b)),
        );
    }
}

fn paint_texture(
    painter: &egui::Painter,
    rect: Rect,
    texture: &egui::TextureHandle,
    tint: Color32,
) {
    painter.image(
        texture.id(),
        rect,
        Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
        tint,
    );
}

/// The chosen style, as a picture and a line: the photo's thumbnail or the seed's swatch.
fn active_style_ui(ui: &mut Ui, state: &AppState, res: &Resources, memory: &ViewMemory) {
    // The style of the active model, else of the first compared one with a vector.
    let shown: Vec<String> = state
        .active_model
        .iter()
        .filter(|_| state.view == View::Paint)
        .chain(
            state
                .compare_models
                .iter()
                .filter(|_| state.view == View::Compare),
        )
        .cloned()
        .collect();
    let styles: Vec<ModelStyle> = shown.iter().map(|id| res.model_style(state, id)).collect();
    let vector = styles.iter().find_map(|s| match s {
        ModelStyle::Vector(v) => Some(v),
        _ => None,
    });
    let (title, detail) = match &state.style {
        StyleChoice::Seed => (
            format!("Noise from seed {}", state.seed),
            "works with every model".to_string(),
        ),
        StyleChoice::Photo(path) => {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let detail = if styles.contains(&ModelStyle::Waiting) {
                "taking the photo's style…".to_string()
            } else {
                styles.first().map(ModelStyle::caption).unwrap_or_default()
            };
            (format!("Style of {name}"), detail)
        }
        StyleChoice::Saved(saved) => (
            format!("Kept style \"{}\"", saved.name),
            styles.first().map(ModelStyle::caption).unwrap_or_default(),
        ),
    };
    ui.horizontal(|ui| {
        let (rect, response) = ui.allocate_exact_size(ACTIVE, Sense::hover());
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Image, true, format!("Active style: {title}"))
        });
        let painter = ui.painter_at(rect);
        let thumbnail = match &state.style {
            StyleChoice::Saved(SavedStyle {
                style: Style::Vector(v),
                ..
            }) => memory.style_thumbnails.get(&vector_fingerprint(v)),
            StyleChoice::Photo(_) => {
                vector.and_then(|v| memory.style_thumbnails.get(&vector_fingerprint(v)))
            }
            _ => None,
        };
        match (&state.style, thumbnail) {
            (_, Some(texture)) => paint_texture(&painter, rect, texture, Color32::WHITE),
            (StyleChoice::Seed, _) => paint_seed_swatch(&painter, rect, state.seed),
            _ => {
                painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
                painter.text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    "…",
                    egui::FontId::proportional(14.0),
                    ui.visuals().weak_text_color(),
                );
            }
        }
        painter.rect_stroke(
            rect,
            2.0,
            Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
            StrokeKind::Inside,
        );
        ui.vertical(|ui| {
            ui.label(RichText::new(&title).strong());
            ui.label(RichText::new(detail).weak());
        });
    });
}

/// Seed field (type to reproduce), lock and "New style": both return to the seed's noise.
pub fn seed_ui(ui: &mut Ui, state: &AppState, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let label = ui.label("Seed");
        let mut seed = state.seed;
        let response = ui
            .add(
                egui::DragValue::new(&mut seed)
                    .range(0..=u64::from(u32::MAX))
                    .speed(1.0),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "The style noise z comes from this seed: type one to reproduce a result (it \
                 replaces a photo's style)",
            );
        if response.changed() {
            commands.push(Command::SetSeed(seed));
        }
        let mut locked = state.seed_locked;
        if ui
            .checkbox(&mut locked, "Lock")
            .on_hover_text("Keep this seed when asking for a new style")
            .changed()
        {
            commands.push(Command::SetSeedLocked(locked));
        }
        let tip = if state.seed_locked {
            "Back to the noise of the locked seed".to_string()
        } else {
            format!(
                "Draw a new seed between 0 and {MAX_DRAWN_SEED} and use its noise ({})",
                shortcuts::text(&shortcuts::NEW_STYLE)
            )
        };
        if ui.button("New style").on_hover_text(tip).clicked() {
            commands.push(Command::NewStyle);
        }
    });
}

/// The style section of the results panel: the chosen style, its controls, the kept styles
/// (in the compare view folded away at first, leaving room for the images).
pub fn style_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    memory: &mut ViewMemory,
    commands: &mut Vec<Command>,
) {
    ui.label(RichText::new("STYLE").small().strong().weak());
    style_controls_ui(ui, state, res, memory, commands);
    ui.add_space(4.0);
    if state.view == View::Compare {
        egui::CollapsingHeader::new(format!("Kept styles ({})", state.saved_styles.len()))
            .id_salt("compare-kept-styles")
            .default_open(false)
            .show(ui, |ui| kept_styles_ui(ui, state, res, memory, commands));
    } else {
        kept_styles_ui(ui, state, res, memory, commands);
    }
}

/// The chosen style, the seed, "Style from photo…" and "Save style…".
fn style_controls_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    memory: &mut ViewMemory,
    commands: &mut Vec<Command>,
) {
    active_style_ui(ui, state, res, memory);
    seed_ui(ui, state, commands);
    ui.horizontal(|ui| {
        let reason = res.no_encoder_reason(state);
        let busy = res.styles.job.is_some() || res.dialog.is_some();
        let button = ui
            .add_enabled(
                reason.is_none() && !busy,
                egui::Button::new(STYLE_FROM_PHOTO),
            )
            .on_hover_text(
                "Use the light and colours of a photo: each model's style encoder takes the \
                 photo's mean style (you can also drop a photo on the result)",
            );
        let button = match &reason {
            Some(reason) => button.on_disabled_hover_text(reason),
            None if res.styles.job.is_some() => {
                button.on_disabled_hover_text("Taking a photo's style…")
            }
            None => button.on_disabled_hover_text("A file dialog is open"),
        };
        if button.clicked() {
            commands.push(Command::StyleFromPhoto(None));
        }
        if ui
            .button(SAVE_STYLE)
            .on_hover_text("Keep the current style under a name, in the strip below")
            .clicked()
        {
            memory.style_name = Some(default_name(state));
        }
    });
    if let Some(mut name) = memory.style_name.take() {
        let mut keep_asking = true;
        ui.horizontal(|ui| {
            let label = ui.label("Name");
            let field = ui
                .add(egui::TextEdit::singleline(&mut name).desired_width(150.0))
                .labelled_by(label.id);
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button("Keep").clicked() || entered {
                commands.push(Command::SaveStyle(name.clone()));
                keep_asking = false;
            }
            if ui.button("Cancel").clicked() {
                keep_asking = false;
            }
        });
        if keep_asking {
            memory.style_name = Some(name);
        }
    }
}

/// The name "Save style…" proposes: the photo's name, the kept style's, or "seed N".
fn default_name(state: &AppState) -> String {
    match &state.style {
        StyleChoice::Seed => format!("seed {}", state.seed),
        StyleChoice::Photo(path) => path
            .file_stem()
            .map_or_else(|| "photo".to_string(), |n| n.to_string_lossy().into_owned()),
        StyleChoice::Saved(saved) => saved.name.clone(),
    }
}

/// The kept styles, as cards: a preview of the current layout with the style (when rendered),
/// else the photo's thumbnail or the seed's swatch. Click to use; right-click to export or
/// delete. A style for another model is greyed out with why.
fn kept_styles_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    memory: &ViewMemory,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        if state.view != View::Compare {
            ui.label(RichText::new("KEPT STYLES").small().strong().weak());
        }
        if ui
            .small_button("Import…")
            .on_hover_text("Add a style file (*.scenebrush-style.json) to the strip")
            .clicked()
        {
            commands.push(Command::ImportStyle(None));
        }
    });
    if state.saved_styles.is_empty() {
        ui.label(
            RichText::new("None yet: \"Save style…\" keeps the current one here.")
                .weak()
                .small(),
        );
        return;
    }
    let preview_model = state.active_model.as_deref();
    ui.horizontal_wrapped(|ui| {
        for (index, saved) in state.saved_styles.iter().enumerate() {
            let unfit = res.saved_style_unfit(state, index);
            let fp = fingerprint(&saved.style);
            let preview = preview_model
                .and_then(|id| memory.style_previews.get(&(id.to_string(), fp)))
                .filter(|_| {
                    preview_model
                        .and_then(|id| res.models.get(id))
                        .and_then(|g| g.previews.get(&fp))
                        .is_some_and(|p| p.image.is_some())
                });
            let current = preview_model
                .and_then(|id| res.models.get(id))
                .and_then(|g| g.previews.get(&fp))
                .is_some_and(|p| p.version == res.doc.version);
            let thumbnail = match &saved.style {
                Style::Vector(v) => memory.style_thumbnails.get(&vector_fingerprint(v)),
                Style::Seed(_) => None,
            };
            let chosen = match (&state.style, &saved.style) {
                (StyleChoice::Seed, Style::Seed(s)) => *s == state.seed,
                (StyleChoice::Saved(s), _) => s == saved,
                _ => false,
            };
            ui.allocate_ui(vec2(CARD.x, CARD.y + 22.0), |ui| {
                ui.vertical(|ui| {
                    let response = ui
                        .add_enabled_ui(unfit.is_none(), |ui| {
                            style_card(
                                ui,
                                saved,
                                unfit.is_none(),
                                chosen,
                                preview.map(|p| &p.texture).filter(|_| unfit.is_none()),
                                current,
                                thumbnail,
                            )
                        })
                        .inner;
                    let response = match &unfit {
                        Some(why) => response.on_disabled_hover_text(format!(
                            "\"{}\" cannot be used with this model: {why}",
                            saved.name
                        )),
                        None => response.on_hover_text(format!(
                            "{}: click to use it; right-click to export or delete it",
                            saved.style.describe()
                        )),
                    };
                    if response.clicked() {
                        commands.push(Command::ApplyStyle(index));
                    }
                    response.context_menu(|ui| {
                        if ui.button("Export style…").clicked() {
                            commands.push(Command::Save {
                                kind: crate::ui::state::SaveKind::Style(index),
                                path: None,
                                overwrite: false,
                            });
                            ui.close();
                        }
                        if ui.button("Delete style").clicked() {
                            commands.push(Command::DeleteStyle(index));
                            ui.close();
                        }
                    });
                    ui.add(egui::Label::new(RichText::new(&saved.name).small()).truncate());
                });
            });
        }
    });
}

/// One kept style's card: its preview (dimmed while it shows an older layout), else its
/// photo's thumbnail or its seed's swatch.
fn style_card(
    ui: &mut Ui,
    saved: &SavedStyle,
    enabled: bool,
    chosen: bool,
    preview: Option<&egui::TextureHandle>,
    preview_current: bool,
    thumbnail: Option<&egui::TextureHandle>,
) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(CARD, Sense::click());
    let name = saved.name.clone();
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, enabled, chosen, format!("Style {name}"))
    });
    let painter = ui.painter_at(rect);
    let tint = if enabled {
        Color32::WHITE
    } else {
        Color32::from_gray(90)
    };
    match (preview, thumbnail, &saved.style) {
        (Some(texture), _, _) => {
            let tint = if preview_current {
                tint
            } else {
                Color32::from_gray(170)
            };
            paint_texture(&painter, rect, texture, tint);
        }
        (None, Some(texture), _) => paint_texture(&painter, rect, texture, tint),
        (None, None, Style::Seed(seed)) => paint_seed_swatch(&painter, rect, *seed),
        (None, None, Style::Vector(_)) => {
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        }
    }
    if !enabled {
        painter.rect_filled(rect, 2.0, Color32::from_black_alpha(120));
    }
    let stroke = if chosen {
        Stroke::new(2.0, ui.visuals().selection.stroke.color)
    } else if response.hovered() && enabled {
        Stroke::new(1.5, ui.visuals().widgets.hovered.fg_stroke.color)
    } else {
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
    };
    painter.rect_stroke(rect, 2.0, stroke, StrokeKind::Inside);
    response
}
