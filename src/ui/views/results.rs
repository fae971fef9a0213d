//! The result panel: model picker, the synthesized image (or the photo being edited), the
//! style controls.

use egui::{Color32, Rect, RichText, Sense, Stroke, StrokeKind, Ui, pos2, vec2};

use crate::models::GraphUsed;
use crate::ui::resources::{LoadState, ModelStyle, Resources, latency_text};
use crate::ui::state::{AppState, Command, EditView, SaveKind, View};

use super::edit::edit_bar_ui;
use super::memory::ViewMemory;
use super::shortcuts;
use super::style::style_ui;

/// The picture of one model for the current layout and style: the image (or why there is
/// none; while a photo is edited, the photo), a "rendering" badge while a newer render is on
/// its way, and the caption under it.
pub fn result_card_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    memory: &ViewMemory,
    id: &str,
    width: f32,
) {
    let key = res.render_key_for(state, id);
    let model_style = res.model_style(state, id);
    // The photo being edited shows in the paint view, for the active model.
    let editing = res
        .edit
        .as_ref()
        .filter(|_| state.view == View::Paint && state.active_model.as_deref() == Some(id));
    let rt = &res.models;
    let (w, h) = rt
        .package(id)
        .map_or((res.doc.labels.width(), res.doc.labels.height()), |p| {
            (p.meta.width, p.meta.height)
        });
    let size = vec2(width, width * h as f32 / w.max(1) as f32);
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let view = rt.get(id);
    let name = rt.model_name(id);
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, format!("Result of {name}"))
    });
    let painter = ui.painter_at(rect.expand(2.0));
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let message = |text: String, color: Color32| {
        let galley = ui.painter().layout(
            text,
            egui::FontId::proportional(13.0),
            color,
            rect.width() - 24.0,
        );
        let pos = rect.center() - galley.size() * 0.5;
        painter.galley(pos, galley, color);
    };
    let weak = ui.visuals().weak_text_color();
    match view {
        None => message(
            rt.unusable_reason(id)
                .unwrap_or_else(|| format!("Model {id} is not available")),
            ui.visuals().error_fg_color,
        ),
        Some(view) if editing.is_some() => {
            if let Some(textures) = &memory.edit {
                let texture = match state.edit_view {
                    EditView::Original => &textures.original,
                    EditView::Edited => &textures.edited,
                    EditView::Mask => &textures.mask,
                };
                painter.image(
                    texture.id(),
                    rect,
                    Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            }
            let waiting = editing.is_some_and(|e| !e.is_current(res.doc.version));
            match &view.error {
                Some((k, error)) if waiting && *k == key => {
                    painter.rect_filled(rect, 4.0, Color32::from_black_alpha(170));
                    message(
                        format!("Render failed: {error}"),
                        ui.visuals().error_fg_color,
                    );
                }
                _ if waiting && state.edit_view == EditView::Edited => {
                    rendering_badge(&painter, rect);
                }
                _ => {}
            }
        }
        Some(view) => {
            if let Some(texture) = view
                .result
                .as_ref()
                .and(memory.results.get(id))
                .map(|t| &t.texture)
            {
                painter.image(
                    texture.id(),
                    rect,
                    Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            }
            match (&view.load, &view.error) {
                (LoadState::Failed(reason), _) => message(
                    format!("Unavailable: {reason}"),
                    ui.visuals().error_fg_color,
                ),
                (_, Some((k, error))) if *k == key => {
                    painter.rect_filled(rect, 4.0, Color32::from_black_alpha(170));
                    message(
                        format!("Render failed: {error}"),
                        ui.visuals().error_fg_color,
                    );
                }
                (LoadState::Loading, _) if view.result.is_none() => {
                    message("Loading model…".into(), weak)
                }
                _ if view.result.is_none() && model_style == ModelStyle::Waiting => {
                    message("Taking the photo's style…".into(), weak)
                }
                _ if view.result.is_none() => message("Rendering…".into(), weak),
                _ => {}
            }
            let stale = view.result.as_ref().is_some_and(|r| r.key != key) || view.outdated;
            if stale || (view.is_busy() && view.result.is_some()) {
                rendering_badge(&painter, rect);
            }
        }
    }
    painter.rect_stroke(
        rect,
        4.0,
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
        StrokeKind::Outside,
    );

    // Caption.
    ui.add_space(4.0);
    ui.label(RichText::new(&name).strong());
    if let Some(package) = rt.package(id) {
        ui.label(RichText::new(package.meta.architecture_line()).weak());
    }
    let mut facts = Vec::new();
    if let Some(view) = view {
        if let Some(ms) = view.latency_ms() {
            facts.push(latency_text(ms));
        }
        if let Some(provider) = view.load.provider() {
            facts.push(provider.used.clone());
        }
        if let Some(precision) = rt.precision_label(id) {
            facts.push(precision.to_string());
        }
        if view.result.is_some() || !view.load.is_failed() {
            facts.push(model_style.caption());
        }
    }
    if !facts.is_empty() {
        let line = ui.label(RichText::new(facts.join(" · ")).weak());
        let tips: Vec<String> = [
            res.styles
                .failure(id)
                .map(|reason| format!("The style encoder failed: {reason}")),
            rt.int8_note(id),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !tips.is_empty() {
            line.on_hover_text(tips.join("\n"));
        }
    }
}

/// "rendering…" in the image's top right corner: a newer image is on its way.
fn rendering_badge(painter: &egui::Painter, rect: Rect) {
    let badge = Rect::from_min_size(rect.right_top() + vec2(-104.0, 8.0), vec2(96.0, 22.0));
    painter.rect_filled(badge, 11.0, Color32::from_black_alpha(150));
    painter.text(
        badge.center(),
        egui::Align2::CENTER_CENTER,
        "rendering…",
        egui::FontId::proportional(12.0),
        Color32::from_gray(230),
    );
}

/// One row per generator; unavailable ones greyed out with the reason as tooltip.
pub fn model_list_ui(ui: &mut Ui, state: &AppState, res: &Resources, commands: &mut Vec<Command>) {
    let rt = &res.models;
    let choices = rt.model_choices();
    if choices.is_empty() {
        ui.label(RichText::new("No model packages found.").weak());
        if ui.link("Where SceneBrush looks for models…").clicked() {
            commands.push(Command::ShowModelsWindow(true));
        }
        return;
    }
    for (id, name) in choices {
        let selected = state.active_model.as_deref() == Some(id.as_str());
        let usable = rt.is_usable(&id);
        // The precision it runs, when it has an int8 variant: "SPADE · int8".
        let text = match rt.precision_label(&id) {
            Some(precision) => format!("{name} · {precision}"),
            None => name.clone(),
        };
        let button =
            egui::Button::selectable(selected, text).min_size(vec2(ui.available_width(), 22.0));
        let response = ui.add_enabled(usable, button);
        let response = match rt.unusable_reason(&id) {
            Some(reason) => response.on_disabled_hover_text(format!("Unavailable: {reason}")),
            None => {
                let mut tip = match rt.package(&id) {
                    Some(p) => format!("{} ({id})", p.meta.architecture_line()),
                    None => id.clone(),
                };
                if let Some(graph) = rt.get(&id).and_then(|g| g.load.graph()) {
                    tip.push_str(match graph {
                        GraphUsed::Int8 => "\nRuns its int8 variant (quantized: faster on CPUs)",
                        GraphUsed::Float | GraphUsed::FloatInstead { .. } => {
                            "\nRuns model.onnx (float)"
                        }
                    });
                }
                if let Some(note) = rt.int8_note(&id) {
                    tip.push('\n');
                    tip.push_str(&note);
                }
                response.on_hover_text(tip)
            }
        };
        if response.clicked() && !selected {
            commands.push(Command::SetActiveModel(id.clone()));
        }
    }
}

/// The right panel of the paint view.
pub fn results_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    memory: &mut ViewMemory,
    commands: &mut Vec<Command>,
) {
    ui.label(RichText::new("MODEL").small().strong().weak());
    model_list_ui(ui, state, res, commands);
    ui.add_space(8.0);
    ui.separator();
    if res.edit.is_some() {
        edit_bar_ui(ui, state, res, commands);
    } else {
        ui.label(RichText::new("RESULT").small().strong().weak());
    }
    ui.add_space(2.0);
    match &state.active_model {
        Some(id) => result_card_ui(ui, state, res, memory, id, ui.available_width()),
        None => {
            ui.label(
                RichText::new("No model can run, so there is nothing to synthesize yet. You can still paint and save layouts.")
                    .weak(),
            );
        }
    }
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let has_image = res.has_image(state);
        if ui
            .add_enabled(has_image, egui::Button::new("Export image…"))
            .on_hover_text(format!(
                "Save the synthesized image as PNG or JPEG ({})",
                shortcuts::text(&shortcuts::EXPORT)
            ))
            .clicked()
        {
            commands.push(Command::Save {
                kind: SaveKind::Image,
                path: None,
                overwrite: false,
            });
        }
        let mut live = state.live_preview;
        if ui
            .checkbox(&mut live, "Live")
            .on_hover_text("Render while painting (always when a stroke ends)")
            .changed()
        {
            commands.push(Command::SetLivePreview(live));
        }
    });
    ui.add_space(6.0);
    ui.separator();
    style_ui(ui, state, res, memory, commands);
}
