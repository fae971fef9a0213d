//! Opening and saving files: native dialogs on their own thread (the UI never blocks), label-map
//! import, layout/image/grid export. Writes are atomic (crate::io) and never replace a file
//! without asking.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{TryRecvError, channel};

use crate::io::{IoError, compare_grid, save_image, save_label_color_png, save_label_ids_png};

use super::command::{Command, SaveKind, TrainCommand, TrainPick};
use super::compare::grid_cells;
use super::runtime::{DialogPurpose, OverwriteQuestion, PendingDialog, Runtime, is_png};
use super::state::AppState;

/// Shows a native file dialog on a helper thread; its answer arrives through [`poll_dialog`].
pub fn start_dialog(purpose: DialogPurpose, state: &AppState, rt: &mut Runtime) {
    if rt.dialog.is_some() {
        return;
    }
    let mut dialog = rfd::FileDialog::new();
    let dir = match purpose {
        DialogPurpose::Open | DialogPurpose::OpenPhoto | DialogPurpose::Train(_) => {
            state.last_open_dir.clone()
        }
        DialogPurpose::Save(_) => state
            .last_save_dir
            .clone()
            .or_else(|| state.last_open_dir.clone()),
    };
    if let Some(dir) = dir.filter(|d| d.is_dir()) {
        dialog = dialog.set_directory(dir);
    }
    dialog = match purpose {
        DialogPurpose::Open => dialog
            .set_title("Open layout")
            .add_filter("Label map (PNG)", &["png", "PNG"]),
        DialogPurpose::OpenPhoto => dialog.set_title("Open photo as layout").add_filter(
            "Photo (PNG, JPEG)",
            &["png", "PNG", "jpg", "JPG", "jpeg", "JPEG"],
        ),
        DialogPurpose::Train(TrainPick::ClassFile) => dialog
            .set_title(TrainPick::ClassFile.title())
            .add_filter("Class list (JSON)", &["json"]),
        DialogPurpose::Train(pick) => dialog.set_title(pick.title()),
        DialogPurpose::Save(kind @ (SaveKind::Image | SaveKind::Grid)) => dialog
            .set_title(kind.title())
            .set_file_name(kind.default_file_name())
            .add_filter("PNG image", &["png"])
            .add_filter("JPEG image", &["jpg", "jpeg"]),
        DialogPurpose::Save(kind) => dialog
            .set_title(kind.title())
            .set_file_name(kind.default_file_name())
            .add_filter("PNG image", &["png"]),
    };
    let (tx, rx) = channel();
    let spawned = std::thread::Builder::new()
        .name("file-dialog".into())
        .spawn(move || {
            let path = match purpose {
                DialogPurpose::Open
                | DialogPurpose::OpenPhoto
                | DialogPurpose::Train(TrainPick::ClassFile) => dialog.pick_file(),
                DialogPurpose::Train(_) => dialog.pick_folder(),
                DialogPurpose::Save(_) => dialog.save_file(),
            };
            // The app may have closed meanwhile; then nobody needs the answer.
            let _ = tx.send(path);
        });
    match spawned {
        Ok(_) => rt.dialog = Some(PendingDialog { purpose, rx }),
        Err(e) => rt.show_error("Cannot show the file dialog", e.to_string()),
    }
}

/// The command a finished dialog leads to, if it has finished.
pub fn poll_dialog(rt: &mut Runtime) -> Option<Command> {
    let pending = rt.dialog.as_ref()?;
    let answer = match pending.rx.try_recv() {
        Err(TryRecvError::Empty) => return None,
        Ok(answer) => answer,
        Err(TryRecvError::Disconnected) => {
            rt.dialog = None;
            rt.show_error(
                "The file dialog failed",
                "The native file dialog closed without an answer. On Linux it needs the \
                 xdg-desktop-portal service or zenity; install one of them.",
            );
            return None;
        }
    };
    let purpose = pending.purpose;
    rt.dialog = None;
    let path = answer?;
    Some(match purpose {
        DialogPurpose::Open => Command::Open(Some(path)),
        DialogPurpose::OpenPhoto => Command::OpenPhoto(Some(path)),
        DialogPurpose::Train(pick) => Command::Train(TrainCommand::Picked(pick, path)),
        // The native save dialog has already asked before choosing an existing file (rfd's
        // portal, zenity --confirm-overwrite, Windows and macOS dialogs all do). A name typed
        // without an extension gets ".png", a name the dialog did not ask about.
        DialogPurpose::Save(kind) if path.extension().is_none() => Command::Save {
            kind,
            path: Some(path.with_extension("png")),
            overwrite: false,
        },
        DialogPurpose::Save(kind) => Command::Save {
            kind,
            path: Some(path),
            overwrite: true,
        },
    })
}

/// Opens a label map into the canvas as one undo step; on any problem the painting stays as it
/// is and the error names the file and the offending ids or colours.
pub fn open_layout(path: &Path, state: &mut AppState, rt: &mut Runtime) {
    if path.is_dir() {
        // A dropped folder: say so, rather than "not a PNG".
        let e = IoError::Folder(path.to_path_buf());
        return rt.show_error("Cannot open a folder", e.to_string());
    }
    if !is_png(path) {
        rt.show_error(
            "Cannot open this file",
            format!(
                "{} is not a PNG. A layout is an 8-bit grayscale or palette PNG of class ids, or \
                 a PNG in the model's class colours. To start from a photo, use File > Open \
                 photo as layout.",
                path.display()
            ),
        );
        return;
    }
    let (w, h) = (rt.doc.labels.width(), rt.doc.labels.height());
    let loaded = crate::io::load_label_png(path, &rt.doc.classes, rt.doc.dontcare)
        .and_then(|map| crate::io::fit_label_map(map, w, h, path));
    match loaded {
        Ok(map) => {
            rt.doc.replace_labels(map);
            rt.doc.source = Some(path.to_path_buf());
            state.last_open_dir = path.parent().map(Path::to_path_buf);
            rt.error = None;
            rt.show_notice(format!("Opened {}", path.display()));
        }
        Err(e) => rt.show_error(format!("Could not open {}", file_name(path)), e.to_string()),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// False (with an error report) when `kind` has nothing to write yet, so no dialog opens
/// for nothing.
pub fn ready_to_save(kind: SaveKind, state: &AppState, rt: &mut Runtime) -> bool {
    let ready = match kind {
        SaveKind::LayoutIds | SaveKind::LayoutColors => true,
        SaveKind::Image => state
            .active_model
            .as_deref()
            .and_then(|id| rt.models.get(id))
            .is_some_and(|m| m.result.is_some()),
        SaveKind::Grid => grid_cells(state, rt).is_some(),
    };
    if !ready {
        report_nothing_to_export(kind, rt);
    }
    ready
}

fn report_nothing_to_export(kind: SaveKind, rt: &mut Runtime) {
    let message = match kind {
        SaveKind::Grid => {
            "Choose at least two models in the compare view and wait until each shows the \
             current layout."
        }
        _ => "The active model has not produced an image yet; wait for it to render.",
    };
    rt.show_error("Nothing to export yet", message);
}

/// Writes a file. An existing file is only replaced with `overwrite` (after the user agreed);
/// otherwise the user is asked.
pub fn save_file(
    kind: SaveKind,
    path: PathBuf,
    overwrite: bool,
    state: &mut AppState,
    rt: &mut Runtime,
) {
    let layout = matches!(kind, SaveKind::LayoutIds | SaveKind::LayoutColors);
    if layout && !is_png(&path) {
        // Opening accepts only .png names: a layout saved under another could not be reopened.
        return rt.show_error(
            format!("{} failed", kind.title()),
            format!(
                "{} is not a .png name; a layout is saved as a PNG: choose a name ending in .png",
                path.display()
            ),
        );
    }
    let result = match kind {
        SaveKind::LayoutIds => save_label_ids_png(&path, &rt.doc.labels, overwrite),
        SaveKind::LayoutColors => {
            save_label_color_png(&path, &rt.doc.labels, &rt.doc.palette, overwrite)
        }
        SaveKind::Image => {
            let image = state
                .active_model
                .as_deref()
                .and_then(|id| rt.models.get(id))
                .and_then(|m| m.result.as_ref())
                .map(|r| &r.image);
            match image {
                Some(image) => save_image(&path, image, overwrite),
                None => return report_nothing_to_export(kind, rt),
            }
        }
        SaveKind::Grid => match grid_cells(state, rt) {
            Some(cells) => save_image(&path, &compare_grid(&cells), overwrite),
            None => return report_nothing_to_export(kind, rt),
        },
    };
    match result {
        Ok(()) => {
            state.last_save_dir = path.parent().map(Path::to_path_buf);
            rt.show_notice(format!("{} to {}", kind.done(), path.display()));
        }
        Err(IoError::Exists(path)) => rt.overwrite = Some(OverwriteQuestion { kind, path }),
        Err(e) => rt.show_error(format!("{} failed", kind.title()), e.to_string()),
    }
}
