//! Floating windows: models and their status, keyboard shortcuts, the error panel and the
//! "replace file?" question.

use egui::{RichText, Ui};

use crate::models::Precision;
use crate::ui::resources::{LoadState, Resources, latency_text};
use crate::ui::state::{AppState, Command};

use super::shortcuts;

pub fn models_window(
    ctx: &egui::Context,
    state: &AppState,
    res: &Resources,
    commands: &mut Vec<Command>,
) {
    let mut open = state.show_models_window;
    egui::Window::new("Models")
        .open(&mut open)
        .default_width(760.0)
        .default_pos([260.0, 70.0])
        .show(ctx, |ui| models_ui(ui, res));
    if open != state.show_models_window {
        commands.push(Command::ShowModelsWindow(open));
    }
}

fn models_ui(ui: &mut Ui, res: &Resources) {
    let rt = &res.models;
    match &rt.runtime_info {
        Ok(info) => ui.label(format!(
            "ONNX Runtime {} from {} · requested provider: {} · precision: {}",
            info.version,
            info.library_path.display(),
            rt.provider,
            match rt.precision {
                Precision::Auto => "int8 variants when available",
                Precision::Float => "float",
            }
        )),
        Err(reason) => ui.label(RichText::new(reason).color(ui.visuals().error_fg_color)),
    };
    ui.label(RichText::new("Folders scanned, in order:").weak());
    for dir in &rt.registry.dirs {
        let exists = dir.is_dir();
        ui.label(
            RichText::new(format!(
                "  {}{}",
                dir.display(),
                if exists { "" } else { "  (does not exist)" }
            ))
            .monospace()
            .small(),
        );
    }
    ui.separator();
    if rt.registry.entries.is_empty() {
        ui.label("No model packages found. Put a package folder (model.json + model.onnx) into one of the folders above.");
        return;
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("models-grid")
            .striped(true)
            .num_columns(5)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                for h in ["Model", "Architecture", "Size", "Status", "Runs on"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for entry in &rt.registry.entries {
                    match &entry.package {
                        Some(p) => {
                            ui.label(&p.meta.name).on_hover_text(format!(
                                "id {}\n{}",
                                p.meta.id,
                                entry.dir.display()
                            ));
                            ui.label(format!(
                                "{} / {}",
                                p.meta.architecture_name(),
                                p.meta.discriminator.as_deref().unwrap_or("?")
                            ));
                            ui.label(format!("{} × {}", p.meta.width, p.meta.height));
                        }
                        None => {
                            ui.label(&entry.id)
                                .on_hover_text(entry.dir.display().to_string());
                            ui.label("—");
                            ui.label("—");
                        }
                    }
                    let view = rt.get(&entry.id);
                    let failed = entry
                        .reason()
                        .map(str::to_string)
                        .or_else(|| view.and_then(|v| v.load.failure()).map(str::to_string));
                    match (failed, view.map(|v| &v.load)) {
                        (Some(reason), _) => {
                            let text = RichText::new(format!("Unavailable: {reason}"))
                                .color(ui.visuals().error_fg_color);
                            ui.allocate_ui(egui::vec2(380.0, 0.0), |ui| {
                                ui.add(egui::Label::new(text).wrap());
                            });
                            ui.label("—");
                        }
                        (None, Some(LoadState::Loading)) => {
                            ui.label("Loading…");
                            ui.label("—");
                        }
                        (
                            None,
                            Some(LoadState::Loaded {
                                provider, load_ms, ..
                            }),
                        ) => {
                            let ready = format!("Ready ({} to load)", latency_text(*load_ms));
                            match rt.int8_note(&entry.id) {
                                Some(note) => {
                                    ui.label(format!("{ready}; its int8 variant is not used"))
                                        .on_hover_text(note);
                                }
                                None => {
                                    ui.label(ready);
                                }
                            }
                            let mut tip = provider.notes.join("\n");
                            if tip.is_empty() {
                                tip = "No other provider was requested".into();
                            }
                            let runs = match rt.precision_label(&entry.id) {
                                Some(precision) => format!("{} · {precision}", provider.used),
                                None => provider.used.clone(),
                            };
                            ui.label(runs).on_hover_text(tip);
                        }
                        (None, None | Some(LoadState::Failed(_))) => {
                            ui.label("Not a generator");
                            ui.label("—");
                        }
                    }
                    ui.end_row();
                }
            });
    });
}

pub fn shortcuts_window(ctx: &egui::Context, state: &AppState, commands: &mut Vec<Command>) {
    let mut open = state.show_shortcuts_window;
    egui::Window::new("Keyboard shortcuts")
        .open(&mut open)
        .default_pos([300.0, 90.0])
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts-grid")
                .striped(true)
                .num_columns(2)
                .show(ui, |ui| {
                    for (keys, what) in shortcuts::help_rows() {
                        ui.label(RichText::new(keys).monospace());
                        ui.label(what);
                        ui.end_row();
                    }
                });
        });
    if open != state.show_shortcuts_window {
        commands.push(Command::ShowShortcutsWindow(open));
    }
}

/// Not modal: the painting stays usable while the message is shown.
pub fn error_window(ctx: &egui::Context, res: &Resources, commands: &mut Vec<Command>) {
    let Some(error) = &res.messages.error else {
        return;
    };
    let mut open = true;
    egui::Window::new(RichText::new(&error.title).color(ctx.global_style().visuals.error_fg_color))
        .id(egui::Id::unique("error-window"))
        .open(&mut open)
        .collapsible(false)
        .default_width(520.0)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
        .show(ctx, |ui| {
            ui.add(egui::Label::new(&error.message).wrap().selectable(true));
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.button("Dismiss").clicked() {
                    commands.push(Command::DismissError);
                }
                if ui.button("Copy message").clicked() {
                    ui.ctx()
                        .copy_text(format!("{}\n{}", error.title, error.message));
                }
            });
        });
    if !open {
        commands.push(Command::DismissError);
    }
}

/// Asks before a save replaces an existing file.
pub fn overwrite_modal(ctx: &egui::Context, res: &Resources, commands: &mut Vec<Command>) {
    let Some(question) = &res.overwrite else {
        return;
    };
    let response = egui::Modal::new(egui::Id::unique("overwrite-modal")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading("Replace the existing file?");
        ui.add_space(4.0);
        ui.add(
            egui::Label::new(format!(
                "{} already exists. Replacing it overwrites its contents.",
                question.path.display()
            ))
            .wrap(),
        );
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button("Replace").clicked() {
                commands.push(Command::ConfirmOverwrite(true));
            }
            if ui.button("Cancel").clicked() {
                commands.push(Command::ConfirmOverwrite(false));
            }
        });
    });
    if response.should_close()
        && !commands
            .iter()
            .any(|c| matches!(c, Command::ConfirmOverwrite(_)))
    {
        commands.push(Command::ConfirmOverwrite(false));
    }
}
