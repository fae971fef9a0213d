//! The actions layer: carries out the views' commands on the state and the resources, after the
//! UI pass, and takes in what helper threads reported (worker events, dialogs, jobs, the
//! trainer). No drawing here, and nothing from the views.
mod edit;
mod files;
mod models;
mod paint;
mod photo;
mod style;
mod training;
mod viewport;

pub use files::{grid_cells, poll_dialog, start_dialog};
pub use models::{keep_active_model_usable, schedule_renders, set_active_model};
pub use photo::{class_mismatch, fit_to_canvas};

use crate::ui::resources::{DialogPurpose, PhotoPurpose, Resources};
use crate::ui::state::{AppState, CanvasViewport, Command, SaveKind};

/// Carries out one command.
pub fn apply(
    command: Command,
    state: &mut AppState,
    viewport: &mut CanvasViewport,
    res: &mut Resources,
) {
    match command {
        Command::SetTool(tool) => state.tool = tool,
        Command::SetBrushSize(size) => paint::set_brush_size(state, size),
        Command::StepBrushSize(step) => paint::step_brush_size(state, step),
        Command::SelectClass(id) => paint::select_class(state, &res.doc, id),
        Command::Stroke(stroke) => paint::stroke(state, &mut res.doc, stroke),
        Command::Fill(p) => paint::fill(state, &mut res.doc, p),
        Command::Line { from, to } => paint::line(state, &mut res.doc, from, to),
        Command::Rect { a, b } => paint::rect(state, &mut res.doc, a, b),
        Command::Pick(p) => paint::pick(state, &res.doc, p),
        Command::Undo => paint::undo(&mut res.doc, false),
        Command::Redo => paint::undo(&mut res.doc, true),
        Command::Clear => paint::clear(&mut res.doc),
        Command::NewScene => {
            paint::new_scene(&mut res.doc);
            let stopped = res.end_edit();
            if !stopped.is_empty() {
                res.messages.show_notice(format!("New scene{stopped}"));
            }
        }

        Command::SetView(view) => state.view = view,
        Command::SetActiveModel(id) => models::set_active_model(state, res, &id),
        Command::ToggleCompare(id) => models::toggle_compare(state, res, id),
        Command::NewStyle => style::new_style(state, res),
        Command::SetSeed(seed) => style::set_seed(state, res, seed),
        Command::StyleFromPhoto(None) => {
            files::start_dialog(DialogPurpose::StylePhoto, state, res);
        }
        Command::StyleFromPhoto(Some(path)) => style::style_from_photo(&path, state, res),
        Command::SaveStyle(name) => style::save_style(&name, state, res),
        Command::ApplyStyle(index) => style::apply_style(index, state, res),
        Command::DeleteStyle(index) => style::delete_style(index, state, res),
        Command::ImportStyle(None) => files::start_dialog(DialogPurpose::ImportStyle, state, res),
        Command::ImportStyle(Some(path)) => {
            style::import_style(&path, state, res);
        }
        Command::SetSeedLocked(locked) => state.seed_locked = locked,
        Command::SetLivePreview(live) => state.live_preview = live,

        Command::SetCanvasView { zoom, pan } => viewport::set_view(state, viewport, zoom, pan),
        Command::ZoomBy(factor) => viewport::zoom_by(state, viewport, factor),
        Command::ZoomFit => viewport::zoom_fit(state, viewport),
        Command::ZoomActual => viewport::zoom_actual(state, viewport),

        Command::Open(None) => files::start_dialog(DialogPurpose::Open, state, res),
        Command::Open(Some(path)) => {
            if res.doc.stroke.is_none() {
                files::open_layout(&path, state, res);
            }
        }
        Command::OpenPhoto(None) => files::start_dialog(DialogPurpose::OpenPhoto, state, res),
        Command::OpenPhoto(Some(path)) => {
            photo::start_photo_job(&path, PhotoPurpose::Layout, state, res);
        }
        Command::EditPhoto(None) => files::start_dialog(DialogPurpose::EditPhoto, state, res),
        Command::EditPhoto(Some(path)) => {
            if res.doc.stroke.is_none() && edit::can_edit(&path, state, res) {
                photo::start_photo_job(&path, PhotoPurpose::Edit, state, res);
            }
        }
        Command::ApplyEditedLayout(path) => {
            if res.doc.stroke.is_none() {
                edit::apply_edited_layout(&path, res);
            }
        }
        Command::StopEditing => edit::stop_editing(res, ""),
        Command::SetEditView(view) => state.edit_view = view,
        Command::RescanModels => models::rescan(res),
        Command::SetPrecision(precision) => models::set_precision(state, res, precision),
        Command::Train(command) => training::apply_train_command(command, state, res),
        Command::Save {
            kind, path: None, ..
        } => {
            if files::ready_to_save(kind, state, res) {
                files::start_dialog(DialogPurpose::Save(kind), state, res);
            }
        }
        Command::Save {
            kind,
            path: Some(path),
            overwrite,
        } => save(kind, path, overwrite, state, res),
        Command::ConfirmOverwrite(replace) => {
            if let Some(question) = res.overwrite.take()
                && replace
            {
                save(question.kind, question.path, true, state, res);
            }
        }
        Command::DismissError => res.messages.error = None,
        Command::ShowModelsWindow(show) => state.show_models_window = show,
        Command::ShowShortcutsWindow(show) => state.show_shortcuts_window = show,
        Command::Quit => res.quit_requested = true,
    }
}

/// Writes a file of `kind` (see [`Command::Save`]).
fn save(
    kind: SaveKind,
    path: std::path::PathBuf,
    overwrite: bool,
    state: &mut AppState,
    res: &mut Resources,
) {
    match kind {
        SaveKind::Style(index) => style::export_style(index, path, overwrite, state, res),
        SaveKind::EditedPhoto | SaveKind::EditedPhotoFullSize => {
            edit::export_edited(kind, path, overwrite, state, res);
        }
        _ => files::save_file(kind, path, overwrite, state, res),
    }
}

/// What [`poll`] found.
#[derive(Debug, Default)]
pub struct Polled {
    /// The photo job or the trainer changed something on screen: a frame now (the worker asks
    /// for its own).
    pub changed: bool,
    /// A helper thread reports through a channel without waking the GUI: look again soon.
    pub waiting: bool,
    /// Commands that follow from the reports (a dialog's answer).
    pub commands: Vec<Command>,
}

/// Takes in what the helper threads reported since the last frame: the worker's events (the
/// active model is replaced if it failed), the photo segmentation, a photo's style, a
/// full-size export, the trainer (a trained model joins the list), a file dialog's answer.
pub fn poll(state: &mut AppState, res: &mut Resources) -> Polled {
    models::poll_worker(state, res);
    let mut polled = Polled {
        changed: photo::poll_photo_job(state, res),
        ..Polled::default()
    };
    polled.changed |= style::poll_style_job(state, res);
    polled.changed |= edit::poll_export_job(state, res);
    let update = training::poll_training(&mut res.training);
    polled.changed |= update.changed;
    if let Some((path, base)) = update.exported {
        models::model_trained(state, res, &path, base);
    }
    polled.commands.extend(files::poll_dialog(res));
    polled.waiting = res.photo_job.is_some()
        || res.styles.job.is_some()
        || res.export_job.is_some()
        || res.training.checking()
        || res.dialog.is_some();
    polled
}

/// After the commands of a frame: styles that models on screen still need, the renders that
/// are due, the photo being edited brought up to date, and a kept style's preview when the
/// worker is idle.
pub fn update(state: &AppState, res: &mut Resources) {
    style::schedule_style_jobs(state, res);
    schedule_renders(state, res);
    edit::refresh(state, res);
    style::schedule_previews(state, res);
}
