//! The palette panel: the active model's classes (colour swatch, name, shortcut, share of the
//! canvas); click to select.

use egui::{Color32, Sense, Stroke, StrokeKind, Ui, pos2, vec2};

use crate::ui::resources::Document;
use crate::ui::state::{AppState, Command};

fn class_row(
    ui: &mut Ui,
    name: &str,
    color: [u8; 3],
    selected: bool,
    key: Option<usize>,
    share: f64,
) -> egui::Response {
    let height = 24.0;
    let (rect, response) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click());
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, ui.is_enabled(), selected, name)
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
        let swatch = egui::Rect::from_min_size(
            pos2(rect.min.x + 6.0, rect.center().y - 8.0),
            vec2(22.0, 16.0),
        );
        let [r, g, b] = color;
        painter.rect_filled(swatch, 3.0, Color32::from_rgb(r, g, b));
        painter.rect_stroke(
            swatch,
            3.0,
            Stroke::new(1.0, Color32::from_white_alpha(60)),
            StrokeKind::Inside,
        );
        if let Some(k) = key {
            painter.text(
                swatch.center(),
                egui::Align2::CENTER_CENTER,
                k.to_string(),
                egui::FontId::proportional(11.0),
                if u32::from(r) + u32::from(g) + u32::from(b) > 380 {
                    Color32::BLACK
                } else {
                    Color32::WHITE
                },
            );
        }
        painter.text(
            pos2(swatch.max.x + 10.0, rect.center().y),
            egui::Align2::LEFT_CENTER,
            name,
            egui::TextStyle::Button.resolve(ui.style()),
            visuals.text_color(),
        );
        if share > 0.0 {
            painter.text(
                pos2(rect.max.x - 6.0, rect.center().y),
                egui::Align2::RIGHT_CENTER,
                if share < 0.01 {
                    "<1%".to_string()
                } else {
                    format!("{:.0}%", share * 100.0)
                },
                egui::TextStyle::Small.resolve(ui.style()),
                ui.visuals().weak_text_color(),
            );
        }
    }
    response
}

pub fn palette_ui(ui: &mut Ui, state: &AppState, doc: &Document, commands: &mut Vec<Command>) {
    ui.label(egui::RichText::new("CLASSES").small().strong().weak());
    ui.add_space(2.0);
    let hist = doc.labels.histogram();
    let total = (doc.labels.width() as f64 * doc.labels.height() as f64).max(1.0);
    egui::ScrollArea::vertical()
        .auto_shrink([false, true])
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing.y = 2.0;
            for (index, class) in doc.classes.iter().enumerate() {
                let key = (index < 9).then_some(index + 1);
                let mut name = class.name.clone();
                if doc.dontcare == Some(class.id) {
                    name.push_str(" (eraser)");
                }
                let share = hist[class.id as usize] as f64 / total;
                let response = class_row(
                    ui,
                    &name,
                    class.color,
                    state.active_class == class.id,
                    key,
                    share,
                );
                let tip = match key {
                    Some(k) => format!("Paint {} (key {k})", class.name),
                    None => format!("Paint {}", class.name),
                };
                if response.on_hover_text(tip).clicked() {
                    commands.push(Command::SelectClass(class.id));
                }
            }
        });
}
