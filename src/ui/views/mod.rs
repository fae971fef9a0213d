//! The views layer: draws the window from the state and the resources and pushes [`Command`]s;
//! it changes nothing else except its own memory (textures, the press on the canvas) and the
//! zoom it measured ([`CanvasViewport::shown_zoom`]). Each part of the window is a `*_ui`
//! function; [`frame_ui`] lays them out.
mod canvas;
mod compare;
mod edit;
mod memory;
mod menu;
mod palette;
mod results;
mod shortcuts;
mod status_bar;
mod style;
mod textures;
mod toolbar;
mod train_tab;
mod windows;

pub use canvas::CANVAS_LABEL;
pub use edit::{EXPORT_EDITED, EXPORT_FULL_SIZE, STOP_EDITING};
pub use memory::{CanvasMemory, EditTextures, ResultTexture, SampleTexture, ViewMemory};
pub use menu::USE_INT8;
pub use shortcuts::dropped_files_ui;
pub use style::{SAVE_STYLE, STYLE_FROM_PHOTO};
pub use textures::sync_textures;
pub use train_tab::training_summary;

use egui::Panel;

use crate::ui::resources::Resources;
use crate::ui::state::{AppState, CanvasViewport, Command, View};

const LEFT_PANEL_WIDTH: f32 = 236.0;

/// One frame of the window: the panels of the view, then the windows over every view. Returns
/// what the user asked for.
pub fn frame_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    viewport: &mut CanvasViewport,
    res: &Resources,
    memory: &mut ViewMemory,
) -> Vec<Command> {
    let ctx = ui.ctx().clone();
    let mut commands = Vec::new();
    shortcuts::shortcuts_ui(&ctx, &mut commands);

    Panel::top("menu-bar").show(ui, |ui| menu::menu_bar_ui(ui, state, res, &mut commands));
    Panel::bottom("status-bar").show(ui, |ui| {
        status_bar::status_bar_ui(ui, state, res, &memory.canvas);
    });
    if state.view == View::Train {
        // Training has its own screen; painting waits in the other tabs meanwhile.
        Panel::left("train-settings")
            .resizable(true)
            .default_size(380.0)
            .size_range(320.0..=640.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("train-settings-scroll")
                    .show(ui, |ui| {
                        train_tab::train_settings_ui(ui, state, res, &mut commands);
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            train_tab::train_run_ui(ui, res, memory, &mut commands);
        });
    } else {
        paint_panels_ui(ui, state, viewport, res, memory, &mut commands);
    }
    if state.view == View::Train {
        memory.results_rect = None;
    }
    shortcuts::drop_hint_ui(&ctx, memory);
    windows::models_window(&ctx, state, res, &mut commands);
    windows::shortcuts_window(&ctx, state, &mut commands);
    windows::error_window(&ctx, res, &mut commands);
    windows::overwrite_modal(&ctx, res, &mut commands);
    commands
}

/// The Paint and Compare views: tools and palette, the results, the canvas.
fn paint_panels_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    viewport: &mut CanvasViewport,
    res: &Resources,
    memory: &mut ViewMemory,
    commands: &mut Vec<Command>,
) {
    Panel::left("tools-panel")
        .resizable(false)
        .exact_size(LEFT_PANEL_WIDTH)
        .show(ui, |ui| {
            ui.add_space(6.0);
            toolbar::toolbar_ui(ui, state, &res.doc.history, commands);
            ui.add_space(6.0);
            ui.separator();
            palette::palette_ui(ui, state, &res.doc, commands);
        });
    match state.view {
        View::Paint => {
            let panel = Panel::right("results-paint")
                .default_size(440.0)
                .size_range(280.0..=900.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("results-scroll")
                        .auto_shrink([false, true])
                        .show(ui, |ui| {
                            ui.add_space(6.0);
                            results::results_ui(ui, state, res, memory, commands);
                        });
                });
            memory.results_rect = Some(panel.response.rect);
        }
        View::Compare => {
            let panel = Panel::right("results-compare")
                .default_size(460.0)
                .size_range(320.0..=1200.0)
                .show(ui, |ui| {
                    ui.add_space(6.0);
                    compare::compare_ui(ui, state, res, memory, commands);
                });
            memory.results_rect = Some(panel.response.rect);
        }
        View::Train => {}
    }
    egui::CentralPanel::default().show(ui, |ui| {
        canvas::canvas_header_ui(ui, state, &res.doc, viewport, commands);
        canvas::canvas_ui(ui, state, viewport, &res.doc, &mut memory.canvas, commands);
    });
}
