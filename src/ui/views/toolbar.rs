//! The tools panel: tool buttons with painted icons, brush size, undo/redo/clear.

use egui::{Color32, Pos2, Rect, Sense, Stroke, StrokeKind, Ui, pos2, vec2};

use crate::canvas::{History, Tool};

use crate::ui::state::{AppState, BRUSH_SIZES, Command};

use super::shortcuts;

/// Draws `tool`'s icon into `rect` (vector shapes: no icon font needed).
pub fn paint_tool_icon(painter: &egui::Painter, rect: Rect, tool: Tool, color: Color32) {
    let p = |x: f32, y: f32| -> Pos2 { rect.min + vec2(x * rect.width(), y * rect.height()) };
    let s = rect.width() / 18.0;
    let thin = Stroke::new(1.4 * s, color);
    match tool {
        Tool::Brush => {
            painter.line_segment([p(0.86, 0.14), p(0.45, 0.55)], Stroke::new(2.6 * s, color));
            painter.add(egui::Shape::convex_polygon(
                vec![
                    p(0.42, 0.5),
                    p(0.52, 0.6),
                    p(0.36, 0.82),
                    p(0.1, 0.9),
                    p(0.2, 0.64),
                ],
                color,
                Stroke::NONE,
            ));
        }
        Tool::Eraser => {
            let body = vec![p(0.55, 0.12), p(0.92, 0.49), p(0.5, 0.91), p(0.13, 0.54)];
            painter.add(egui::Shape::closed_line(body, thin));
            painter.add(egui::Shape::convex_polygon(
                vec![p(0.34, 0.33), p(0.71, 0.70), p(0.5, 0.91), p(0.13, 0.54)],
                color,
                Stroke::NONE,
            ));
            painter.line_segment([p(0.5, 0.93), p(0.95, 0.93)], thin);
        }
        Tool::Fill => {
            // A tipped bucket pouring a drop.
            let bucket = vec![p(0.18, 0.42), p(0.5, 0.1), p(0.86, 0.46), p(0.54, 0.78)];
            painter.add(egui::Shape::closed_line(bucket, thin));
            painter.add(egui::Shape::convex_polygon(
                vec![p(0.34, 0.58), p(0.7, 0.62), p(0.54, 0.78)],
                color,
                Stroke::NONE,
            ));
            painter.circle_filled(p(0.2, 0.74), 2.2 * s, color);
            painter.add(egui::Shape::convex_polygon(
                vec![p(0.2, 0.56), p(0.27, 0.72), p(0.13, 0.72)],
                color,
                Stroke::NONE,
            ));
        }
        Tool::Line => {
            painter.line_segment([p(0.18, 0.82), p(0.82, 0.18)], Stroke::new(2.0 * s, color));
            painter.circle_filled(p(0.18, 0.82), 2.0 * s, color);
            painter.circle_filled(p(0.82, 0.18), 2.0 * s, color);
        }
        Tool::Rect => {
            let r = Rect::from_min_max(p(0.14, 0.24), p(0.86, 0.76));
            painter.rect_filled(r.shrink(2.5 * s), 1.0, color);
            painter.rect_stroke(r, 1.5, thin, StrokeKind::Inside);
        }
        Tool::Eyedropper => {
            painter.line_segment([p(0.2, 0.8), p(0.62, 0.38)], Stroke::new(2.2 * s, color));
            painter.line_segment([p(0.12, 0.88), p(0.2, 0.8)], thin);
            painter.circle_filled(p(0.74, 0.26), 3.6 * s, color);
            painter.line_segment([p(0.52, 0.3), p(0.7, 0.48)], Stroke::new(2.2 * s, color));
        }
    }
}

/// A selectable button with a painted icon and a text label (the accessible name is the label).
fn tool_button(ui: &mut Ui, tool: Tool, selected: bool) -> egui::Response {
    let label = tool.label();
    let height = 28.0;
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(vec2(width, height), Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, ui.is_enabled(), selected, label)
    });
    if ui.is_rect_visible(rect) {
        let visuals = ui.style().interact_selectable(&response, selected);
        let painter = ui.painter();
        if selected || response.hovered() {
            painter.rect(
                rect,
                4.0,
                visuals.weak_bg_fill,
                visuals.bg_stroke,
                StrokeKind::Inside,
            );
        }
        let icon = Rect::from_min_size(
            pos2(rect.min.x + 8.0, rect.center().y - 9.0),
            vec2(18.0, 18.0),
        );
        paint_tool_icon(painter, icon, tool, visuals.text_color());
        painter.text(
            pos2(icon.max.x + 10.0, rect.center().y),
            egui::Align2::LEFT_CENTER,
            label,
            egui::TextStyle::Button.resolve(ui.style()),
            visuals.text_color(),
        );
        painter.text(
            pos2(rect.max.x - 8.0, rect.center().y),
            egui::Align2::RIGHT_CENTER,
            shortcuts::tool_key(tool),
            egui::TextStyle::Small.resolve(ui.style()),
            ui.visuals().weak_text_color(),
        );
    }
    response
}

pub fn toolbar_ui(ui: &mut Ui, state: &AppState, history: &History, commands: &mut Vec<Command>) {
    ui.label(egui::RichText::new("TOOLS").small().strong().weak());
    ui.add_space(2.0);
    ui.spacing_mut().item_spacing.y = 2.0;
    for tool in Tool::ALL {
        let response = tool_button(ui, tool, state.tool == tool).on_hover_text(format!(
            "{} ({})",
            tool_help(tool),
            shortcuts::tool_key(tool)
        ));
        if response.clicked() {
            commands.push(Command::SetTool(tool));
        }
    }
    ui.spacing_mut().item_spacing.y = 6.0;

    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.label("Size");
        let mut size = state.brush_size;
        let slider = egui::Slider::new(&mut size, BRUSH_SIZES)
            .logarithmic(true)
            .integer()
            .suffix(" px");
        if ui
            .add(slider)
            .on_hover_text("Brush, eraser and line diameter in label pixels ([ and ])")
            .changed()
        {
            commands.push(Command::SetBrushSize(size));
        }
    });

    ui.add_space(4.0);
    ui.columns(3, |cols| {
        let undo = cols[0].add_enabled(
            history.can_undo(),
            egui::Button::new("Undo").min_size(vec2(cols[0].available_width(), 0.0)),
        );
        if undo
            .on_hover_text(format!("Undo ({})", shortcuts::text(&shortcuts::UNDO)))
            .clicked()
        {
            commands.push(Command::Undo);
        }
        let redo = cols[1].add_enabled(
            history.can_redo(),
            egui::Button::new("Redo").min_size(vec2(cols[1].available_width(), 0.0)),
        );
        if redo
            .on_hover_text(format!("Redo ({})", shortcuts::text(&shortcuts::REDO)))
            .clicked()
        {
            commands.push(Command::Redo);
        }
        let clear =
            cols[2].add(egui::Button::new("Clear").min_size(vec2(cols[2].available_width(), 0.0)));
        if clear
            .on_hover_text("Paint the whole canvas with the don't-care class (undoable)")
            .clicked()
        {
            commands.push(Command::Clear);
        }
    });
}

fn tool_help(tool: Tool) -> &'static str {
    match tool {
        Tool::Brush => "Brush: paint the selected class",
        Tool::Eraser => "Eraser: paint the don't-care class",
        Tool::Fill => "Fill: flood the clicked region",
        Tool::Line => "Line: drag a straight line",
        Tool::Rect => "Rectangle: drag a filled rectangle",
        Tool::Eyedropper => "Eyedropper: pick a class from the canvas",
    }
}
