//! The compare view: 2 to 4 models side by side on the same layout and seed.

use egui::{RichText, Ui, vec2};

use crate::ui::resources::Resources;
use crate::ui::state::{AppState, Command, MAX_COMPARE, SaveKind};

use super::memory::ViewMemory;
use super::results::result_card_ui;
use super::shortcuts;
use super::style::style_ui;

/// Room for the three caption lines under each image.
const CAPTION_HEIGHT: f32 = 74.0;

pub fn compare_ui(
    ui: &mut Ui,
    state: &AppState,
    res: &Resources,
    memory: &mut ViewMemory,
    commands: &mut Vec<Command>,
) {
    ui.label(RichText::new("COMPARE MODELS").small().strong().weak());
    ui.horizontal_wrapped(|ui| {
        for (id, name) in res.models.model_choices() {
            let mut on = state.compare_models.contains(&id);
            let usable = res.models.is_usable(&id);
            let room = on || state.compare_models.len() < MAX_COMPARE;
            let response = ui.add_enabled(usable && room, egui::Checkbox::new(&mut on, &name));
            let response = match res.models.unusable_reason(&id) {
                Some(reason) => response.on_disabled_hover_text(format!("Unavailable: {reason}")),
                None => response
                    .on_disabled_hover_text(format!("At most {MAX_COMPARE} models side by side")),
            };
            if response.changed() {
                commands.push(Command::ToggleCompare(id.clone()));
            }
        }
    });
    ui.add_space(4.0);
    style_ui(ui, state, res, memory, commands);
    ui.horizontal(|ui| {
        let ready = res.compare_ready(state);
        if ui
            .add_enabled(ready, egui::Button::new("Export grid…"))
            .on_hover_text(format!(
                "Save the images side by side with captions ({})",
                shortcuts::text(&shortcuts::EXPORT_GRID)
            ))
            .on_disabled_hover_text("Choose at least two models and wait for their images")
            .clicked()
        {
            commands.push(Command::Save {
                kind: SaveKind::Grid,
                path: None,
                overwrite: false,
            });
        }
    });
    ui.separator();

    let ids = &state.compare_models;
    if ids.len() < 2 {
        ui.label(RichText::new("Choose at least two models to compare.").weak());
    }
    if ids.is_empty() {
        return;
    }
    let gap = 10.0;
    let aspect = res.doc.labels.width() as f32 / res.doc.labels.height().max(1) as f32;
    let (columns, width) = grid_fit(ids.len(), ui.available_size(), aspect, gap);
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let used = columns as f32 * width + gap * (columns - 1) as f32;
            let indent = ((ui.available_width() - used) * 0.5).max(0.0);
            for row in ids.chunks(columns) {
                ui.horizontal_top(|ui| {
                    ui.add_space(indent);
                    ui.spacing_mut().item_spacing.x = gap;
                    for id in row {
                        ui.allocate_ui(vec2(width, 0.0), |ui| {
                            ui.vertical(|ui| {
                                ui.set_width(width);
                                result_card_ui(ui, state, res, memory, id, width);
                            });
                        });
                    }
                });
                ui.add_space(gap);
            }
        });
}

/// The column count that shows `n` images of `aspect` (width / height) biggest in `avail`
/// without scrolling (when possible), and the image width.
fn grid_fit(n: usize, avail: egui::Vec2, aspect: f32, gap: f32) -> (usize, f32) {
    (1..=n.max(1))
        .map(|columns| {
            let rows = n.div_ceil(columns).max(1);
            let by_width = (avail.x - gap * (columns - 1) as f32) / columns as f32;
            let by_height =
                ((avail.y - rows as f32 * (CAPTION_HEIGHT + gap)) / rows as f32) * aspect;
            (columns, by_width.min(by_height).max(120.0))
        })
        .fold(
            (1, 0.0),
            |best, c| if c.1 > best.1 + 0.5 { c } else { best },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_fit_prefers_the_biggest_images() {
        let aspect = 256.0 / 192.0;
        // A tall narrow panel stacks two images; a wide one puts them side by side.
        assert_eq!(grid_fit(2, egui::vec2(460.0, 700.0), aspect, 10.0).0, 1);
        assert_eq!(grid_fit(2, egui::vec2(1000.0, 500.0), aspect, 10.0).0, 2);
        // Four in a square-ish panel: 2 x 2.
        assert_eq!(grid_fit(4, egui::vec2(800.0, 700.0), aspect, 10.0).0, 2);
        let (_, w) = grid_fit(1, egui::vec2(400.0, 1000.0), aspect, 10.0);
        assert!((w - 400.0).abs() < 1e-3);
    }
}
