//! The menu bar with the view tabs (Paint, Compare).

use egui::{Button, RichText, Ui};

use crate::models::Precision;
use crate::ui::resources::Resources;
use crate::ui::state::{AppState, Command, SaveKind, View};

use super::shortcuts::{self, text};

/// The setting that runs int8 variants (a checkbox in the Models menu).
pub const USE_INT8: &str = "Use int8 models when available";

fn item(
    ui: &mut Ui,
    label: &str,
    shortcut: Option<&egui::KeyboardShortcut>,
    enabled: bool,
) -> bool {
    let mut button = Button::new(label);
    if let Some(s) = shortcut {
        button = button.shortcut_text(text(s));
    }
    ui.add_enabled(enabled, button).clicked()
}

fn save(kind: SaveKind) -> Command {
    Command::Save {
        kind,
        path: None,
        overwrite: false,
    }
}

pub fn menu_bar_ui(ui: &mut Ui, state: &AppState, res: &Resources, commands: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.label(RichText::new("SceneBrush").strong());
        ui.add_space(8.0);
        ui.menu_button("File", |ui| {
            if item(ui, "New scene", None, true) {
                commands.push(Command::NewScene);
            }
            if item(
                ui,
                "Open layout…",
                Some(&shortcuts::OPEN),
                res.dialog.is_none(),
            ) {
                commands.push(Command::Open(None));
            }
            if item(
                ui,
                "Open photo as layout…",
                None,
                res.dialog.is_none() && res.photo_job.is_none(),
            ) {
                commands.push(Command::OpenPhoto(None));
            }
            if item(
                ui,
                "Edit a photo…",
                None,
                res.dialog.is_none() && res.photo_job.is_none() && state.active_model.is_some(),
            ) {
                commands.push(Command::EditPhoto(None));
            }
            if res.edit.is_some() {
                let ready = res.edit_not_exportable().is_none();
                if item(ui, "Export edited photo…", None, ready) {
                    commands.push(save(SaveKind::EditedPhoto));
                }
                if item(ui, "Export edited photo at its own size…", None, ready) {
                    commands.push(save(SaveKind::EditedPhotoFullSize));
                }
                if item(ui, "Stop editing the photo", None, true) {
                    commands.push(Command::StopEditing);
                }
            }
            ui.separator();
            if item(ui, "Save layout (class ids)…", Some(&shortcuts::SAVE), true) {
                commands.push(save(SaveKind::LayoutIds));
            }
            if item(ui, "Save colour layout…", None, true) {
                commands.push(save(SaveKind::LayoutColors));
            }
            ui.separator();
            if item(
                ui,
                "Export image…",
                Some(&shortcuts::EXPORT),
                res.has_image(state),
            ) {
                commands.push(save(SaveKind::Image));
            }
            if item(
                ui,
                "Export comparison grid…",
                Some(&shortcuts::EXPORT_GRID),
                res.compare_ready(state),
            ) {
                commands.push(save(SaveKind::Grid));
            }
            ui.separator();
            if item(ui, "Quit", None, true) {
                commands.push(Command::Quit);
            }
        });
        ui.menu_button("Edit", |ui| {
            if item(
                ui,
                "Undo",
                Some(&shortcuts::UNDO),
                res.doc.history.can_undo(),
            ) {
                commands.push(Command::Undo);
            }
            if item(
                ui,
                "Redo",
                Some(&shortcuts::REDO),
                res.doc.history.can_redo(),
            ) {
                commands.push(Command::Redo);
            }
            ui.separator();
            if item(ui, "Clear canvas", None, true) {
                commands.push(Command::Clear);
            }
            ui.separator();
            if item(ui, "New style", Some(&shortcuts::NEW_STYLE), true) {
                commands.push(Command::NewStyle);
            }
            if item(
                ui,
                "Style from photo…",
                None,
                res.dialog.is_none()
                    && res.styles.job.is_none()
                    && res.no_encoder_reason(state).is_none(),
            ) {
                commands.push(Command::StyleFromPhoto(None));
            }
            if item(ui, "Import style…", None, res.dialog.is_none()) {
                commands.push(Command::ImportStyle(None));
            }
        });
        ui.menu_button("View", |ui| {
            for v in View::ALL {
                if ui
                    .add(Button::selectable(state.view == v, v.label()))
                    .clicked()
                {
                    commands.push(Command::SetView(v));
                }
            }
            ui.separator();
            if item(ui, "Zoom in", Some(&shortcuts::ZOOM_IN), true) {
                commands.push(Command::ZoomBy(1.25));
            }
            if item(ui, "Zoom out", Some(&shortcuts::ZOOM_OUT), true) {
                commands.push(Command::ZoomBy(0.8));
            }
            if item(ui, "Fit canvas", Some(&shortcuts::ZOOM_FIT), true) {
                commands.push(Command::ZoomFit);
            }
            if item(ui, "Actual size", None, true) {
                commands.push(Command::ZoomActual);
            }
        });
        ui.menu_button("Models", |ui| {
            if item(ui, "Models and status…", None, true) {
                commands.push(Command::ShowModelsWindow(true));
            }
            if item(ui, "Rescan model folders", None, true) {
                commands.push(Command::RescanModels);
            }
            ui.separator();
            let mut int8 = state.precision == Precision::Auto;
            if ui
                .checkbox(&mut int8, USE_INT8)
                .on_hover_text(
                    "Run a model's int8 variant (model-int8.onnx, made by the trainer's \
                     `quantize`) when its package has one: on a CPU about 1.6x as fast, with \
                     slightly different pixels. Off: always the float model.onnx. Models \
                     without an int8 variant always run float; the style encoders stay float. \
                     Switching reloads the models; the painting stays.",
                )
                .changed()
            {
                commands.push(Command::SetPrecision(if int8 {
                    Precision::Auto
                } else {
                    Precision::Float
                }));
            }
        });
        ui.menu_button("Help", |ui| {
            if item(ui, "Keyboard shortcuts", None, true) {
                commands.push(Command::ShowShortcutsWindow(true));
            }
        });

        ui.separator();
        // The modes of the app, as tabs.
        for v in View::ALL {
            let tab = Button::selectable(state.view == v, RichText::new(v.label()).strong());
            let tip = match v {
                View::Paint => "Paint a layout and see the active model's result",
                View::Compare => "The same layout and seed through 2 to 4 models side by side",
                View::Train => "Fine-tune or train a model on your photos and watch it learn",
            };
            if ui.add(tab).on_hover_text(tip).clicked() && state.view != v {
                commands.push(Command::SetView(v));
            }
        }
    });
}
