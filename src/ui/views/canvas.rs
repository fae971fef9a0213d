//! The painting surface: the label map's texture, the tools' pointer handling, previews, zoom
//! and pan.

use egui::{
    Color32, CursorIcon, PointerButton, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, Vec2, pos2, vec2,
};

use crate::canvas::Tool;
use crate::ui::resources::Document;
use crate::ui::state::{
    AppState, CanvasViewport, Command, MapPos, Stroke as StrokeCmd, ZOOM_RANGE,
};

use super::memory::CanvasMemory;

/// Label of the canvas widget (for accessibility and tests).
pub const CANVAS_LABEL: &str = "Canvas";
const MARGIN: f32 = 12.0;

/// Where the label map is drawn inside `area` for this state.
pub fn image_rect(area: Rect, map_size: Vec2, zoom: f32, pan: Vec2) -> Rect {
    Rect::from_center_size(area.center() + pan, map_size * zoom)
}

/// The zoom that fits the whole map into `area`.
pub fn fit_zoom(area: Rect, map_size: Vec2) -> f32 {
    let avail = (area.size() - Vec2::splat(2.0 * MARGIN)).max(Vec2::splat(1.0));
    (avail.x / map_size.x.max(1.0))
        .min(avail.y / map_size.y.max(1.0))
        .clamp(0.05, *ZOOM_RANGE.end())
}

fn class_color(doc: &Document, class: u8) -> Color32 {
    let [r, g, b] = doc.palette.color(class);
    Color32::from_rgb(r, g, b)
}

/// Draws the canvas and turns pointer input into commands.
pub fn canvas_ui(
    ui: &mut Ui,
    state: &AppState,
    viewport: &mut CanvasViewport,
    doc: &Document,
    view: &mut CanvasMemory,
    commands: &mut Vec<Command>,
) {
    let map_size = vec2(doc.labels.width() as f32, doc.labels.height() as f32);
    let (area, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, ui.is_enabled(), CANVAS_LABEL)
    });
    let fit = fit_zoom(area, map_size);
    let (zoom, pan) = if state.zoom_fit {
        (fit, Vec2::ZERO)
    } else {
        (state.zoom, viewport.pan)
    };
    viewport.shown_zoom = zoom;
    let img = image_rect(area, map_size, zoom, pan);
    view.image_rect = img;
    let to_map = |p: Pos2| -> MapPos { ((p.x - img.min.x) / zoom, (p.y - img.min.y) / zoom) };
    let to_screen = |(x, y): MapPos| -> Pos2 { pos2(img.min.x + x * zoom, img.min.y + y * zoom) };

    // Background, the map and its frame.
    let painter = ui.painter_at(area);
    let visuals = ui.visuals();
    painter.rect_filled(area, 0.0, visuals.extreme_bg_color);
    painter.rect_filled(
        img.translate(vec2(3.0, 4.0)),
        2.0,
        Color32::from_black_alpha(70),
    );
    if let Some(texture) = &view.texture {
        painter.image(
            texture.id(),
            img,
            Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0)),
            Color32::WHITE,
        );
    }
    painter.rect_stroke(
        img,
        0.0,
        Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color),
        StrokeKind::Outside,
    );

    // Pan (middle drag or space + drag) and zoom (wheel or pinch, around the pointer).
    let (space, scroll_y, pinch, primary_pressed) = ui.input(|i| {
        (
            i.key_down(egui::Key::Space),
            i.smooth_scroll_delta.y,
            i.zoom_delta(),
            i.pointer.primary_pressed(),
        )
    });
    let panning = response.dragged_by(PointerButton::Middle)
        || (space && response.dragged_by(PointerButton::Primary));
    if panning {
        commands.push(Command::SetCanvasView {
            zoom,
            pan: pan + response.drag_delta(),
        });
        ui.ctx().set_cursor_icon(CursorIcon::Grabbing);
    } else if space && response.hovered() {
        ui.ctx().set_cursor_icon(CursorIcon::Grab);
    }
    if response.hovered() {
        let factor = pinch * (scroll_y / 240.0).exp();
        if (factor - 1.0).abs() > 1e-4
            && let Some(anchor) = response.hover_pos()
        {
            let new_zoom = (zoom * factor).clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end());
            // Keep the map point under the pointer in place.
            let (mx, my) = to_map(anchor);
            let new_center = anchor - vec2(mx, my) * new_zoom + map_size * new_zoom * 0.5;
            commands.push(Command::SetCanvasView {
                zoom: new_zoom,
                pan: new_center - area.center(),
            });
        }
    }

    // Tools. A press starts on the canvas and lasts until release.
    let pointer = response
        .interact_pointer_pos()
        .or_else(|| response.hover_pos());
    view.hover = response.hover_pos().map(to_map);
    let down = response.is_pointer_button_down_on()
        && ui.input(|i| i.pointer.primary_down())
        && !space
        && !panning;
    if primary_pressed && down {
        view.press = None;
    }
    let mut began = None;
    if down && let Some(p) = pointer.map(to_map) {
        match view.press {
            None => {
                view.press = Some((p, p));
                began = Some(p);
            }
            Some((start, _)) => view.press = Some((start, p)),
        }
    }
    let mut ended = None;
    if !down && let Some((start, last)) = view.press.take() {
        ended = Some((start, last));
    }
    // A press and release within one frame (fast click) never reported `down`.
    if began.is_none()
        && ended.is_none()
        && response.clicked_by(PointerButton::Primary)
        && !space
        && let Some(p) = pointer.map(to_map)
    {
        began = Some(p);
        ended = Some((p, p));
    }

    match state.tool {
        Tool::Brush | Tool::Eraser => {
            if let Some(p) = began {
                commands.push(Command::Stroke(StrokeCmd::Begin(p)));
            } else if let Some((_, last)) = view.press
                && doc.stroke.is_some_and(|prev| prev != last)
            {
                commands.push(Command::Stroke(StrokeCmd::To(last)));
            }
            if let Some((_, last)) = ended {
                if doc.stroke.is_some_and(|prev| prev != last) {
                    commands.push(Command::Stroke(StrokeCmd::To(last)));
                }
                commands.push(Command::Stroke(StrokeCmd::End));
            }
        }
        Tool::Fill => {
            if let Some(p) = began {
                commands.push(Command::Fill(p));
            }
        }
        Tool::Eyedropper => {
            if let Some(p) = began {
                commands.push(Command::Pick(p));
            }
        }
        Tool::Line | Tool::Rect => {
            if let Some((from, to)) = ended {
                commands.push(if state.tool == Tool::Line {
                    Command::Line { from, to }
                } else {
                    Command::Rect { a: from, b: to }
                });
            }
        }
    }

    // Previews and the brush outline.
    let color = class_color(doc, state.active_class);
    let preview = color.gamma_multiply(0.75);
    let radius = state.brush_size * 0.5 * zoom;
    if let Some((start, last)) = view.press {
        match state.tool {
            Tool::Line => {
                let (a, b) = (to_screen(start), to_screen(last));
                painter.line_segment([a, b], Stroke::new(2.0 * radius, preview));
                painter.circle_filled(a, radius, preview);
                painter.circle_filled(b, radius, preview);
            }
            Tool::Rect => {
                let r = Rect::from_two_pos(to_screen(start), to_screen(last));
                painter.rect_filled(r, 0.0, preview);
                painter.rect_stroke(
                    r,
                    0.0,
                    Stroke::new(1.0, Color32::WHITE),
                    StrokeKind::Outside,
                );
            }
            _ => {}
        }
    }
    if let Some(hover) = response.hover_pos().filter(|_| !panning && !space) {
        match state.tool {
            Tool::Brush | Tool::Eraser | Tool::Line => {
                painter.circle_stroke(hover, radius, Stroke::new(2.5, Color32::BLACK));
                painter.circle_stroke(hover, radius, Stroke::new(1.2, Color32::WHITE));
                ui.ctx().set_cursor_icon(CursorIcon::None);
                painter.circle_filled(hover, 1.5, Color32::WHITE);
            }
            Tool::Fill | Tool::Rect | Tool::Eyedropper => {
                ui.ctx().set_cursor_icon(CursorIcon::Crosshair);
            }
        }
    }

    // Files dragged over the window.
    let hovering_files = ui.ctx().input(|i| !i.raw.hovered_files.is_empty());
    if hovering_files {
        painter.rect_filled(area, 0.0, Color32::from_black_alpha(160));
        painter.text(
            area.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a PNG label map to open it",
            egui::FontId::proportional(22.0),
            Color32::WHITE,
        );
    }
}

/// Zoom controls and canvas facts, shown above the canvas.
pub fn canvas_header_ui(
    ui: &mut Ui,
    state: &AppState,
    doc: &Document,
    viewport: &CanvasViewport,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        let name = doc.source.as_ref().and_then(|p| p.file_name()).map_or_else(
            || "Untitled layout".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        ui.strong(name);
        ui.weak(format!("{} × {}", doc.labels.width(), doc.labels.height()));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .add(egui::Button::selectable(state.zoom_fit, "Fit"))
                .on_hover_text("Fit the canvas to the window")
                .clicked()
            {
                commands.push(Command::ZoomFit);
            }
            if ui
                .button("1:1")
                .on_hover_text("One label pixel per screen point")
                .clicked()
            {
                commands.push(Command::ZoomActual);
            }
            if ui.button("+").on_hover_text("Zoom in (wheel up)").clicked() {
                commands.push(Command::ZoomBy(1.25));
            }
            ui.label(format!("{:.0}%", viewport.shown_zoom * 100.0));
            if ui
                .button("−")
                .on_hover_text("Zoom out (wheel down)")
                .clicked()
            {
                commands.push(Command::ZoomBy(0.8));
            }
        });
    });
}
