//! Opening and saving files: native dialogs on their own thread (the UI never blocks), label-map
//! import, layout/image/grid export. Writes are atomic (`crate::io`) and never replace a file
//! without asking.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{TryRecvError, channel};

use crate::canvas::LabelMap;
use crate::io::{
    GridCell, IoError, compare_grid, save_image, save_label_color_png, save_label_ids_png,
};
use crate::style::STYLE_FILE_SUFFIX;
use crate::ui::resources::{
    DialogPurpose, OverwriteQuestion, PendingDialog, Resources, is_png, latency_text,
};
use crate::ui::state::{AppState, Command, SaveKind, TrainCommand, TrainPick};

const PHOTO_EXTENSIONS: [&str; 6] = ["png", "PNG", "jpg", "JPG", "jpeg", "JPEG"];
const STYLE_EXTENSIONS: [&str; 2] = ["json", "JSON"];

/// Shows a native file dialog on a helper thread; its answer arrives through [`poll_dialog`].
pub fn start_dialog(purpose: DialogPurpose, state: &AppState, res: &mut Resources) {
    if res.dialog.is_some() {
        return;
    }
    let mut dialog = rfd::FileDialog::new();
    let dir = match purpose {
        DialogPurpose::Open
        | DialogPurpose::OpenPhoto
        | DialogPurpose::StylePhoto
        | DialogPurpose::ImportStyle
        | DialogPurpose::EditPhoto
        | DialogPurpose::Train(_) => state.last_open_dir.clone(),
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
        DialogPurpose::OpenPhoto => dialog
            .set_title("Open photo as layout")
            .add_filter("Photo (PNG, JPEG)", &PHOTO_EXTENSIONS),
        DialogPurpose::StylePhoto => dialog
            .set_title("Style from photo")
            .add_filter("Photo (PNG, JPEG)", &PHOTO_EXTENSIONS)
            .add_filter("SceneBrush style", &STYLE_EXTENSIONS),
        DialogPurpose::ImportStyle => dialog
            .set_title("Import style")
            .add_filter("SceneBrush style", &STYLE_EXTENSIONS),
        DialogPurpose::EditPhoto => dialog
            .set_title("Edit a photo")
            .add_filter("Photo (PNG, JPEG)", &PHOTO_EXTENSIONS),
        DialogPurpose::Save(kind @ SaveKind::Style(index)) => dialog
            .set_title(kind.title())
            .set_file_name(
                state
                    .saved_styles
                    .get(index)
                    .map_or_else(|| kind.default_file_name().to_string(), |s| s.file_name()),
            )
            .add_filter("SceneBrush style", &STYLE_EXTENSIONS),
        DialogPurpose::Train(TrainPick::ClassFile) => dialog
            .set_title(TrainPick::ClassFile.title())
            .add_filter("Class list (JSON)", &["json"]),
        DialogPurpose::Train(pick) => dialog.set_title(pick.title()),
        DialogPurpose::Save(
            kind @ (SaveKind::Image
            | SaveKind::Grid
            | SaveKind::EditedPhoto
            | SaveKind::EditedPhotoFullSize),
        ) => dialog
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
                | DialogPurpose::StylePhoto
                | DialogPurpose::ImportStyle
                | DialogPurpose::EditPhoto
                | DialogPurpose::Train(TrainPick::ClassFile) => dialog.pick_file(),
                DialogPurpose::Train(_) => dialog.pick_folder(),
                DialogPurpose::Save(_) => dialog.save_file(),
            };
            // The app may have closed meanwhile; then nobody needs the answer.
            let _ = tx.send(path);
        });
    match spawned {
        Ok(_) => res.dialog = Some(PendingDialog::new(purpose, rx)),
        Err(e) => res
            .messages
            .show_error("Cannot show the file dialog", e.to_string()),
    }
}

/// The command a finished dialog leads to, if it has finished.
pub fn poll_dialog(res: &mut Resources) -> Option<Command> {
    let pending = res.dialog.as_ref()?;
    let answer = match pending.rx.try_recv() {
        Err(TryRecvError::Empty) => return None,
        Ok(answer) => answer,
        Err(TryRecvError::Disconnected) => {
            res.dialog = None;
            res.messages.show_error(
                "The file dialog failed",
                "The native file dialog closed without an answer. On Linux it needs the \
                 xdg-desktop-portal service or zenity; install one of them.",
            );
            return None;
        }
    };
    let purpose = pending.purpose;
    res.dialog = None;
    let path = answer?;
    Some(match purpose {
        DialogPurpose::Open => Command::Open(Some(path)),
        DialogPurpose::OpenPhoto => Command::OpenPhoto(Some(path)),
        DialogPurpose::StylePhoto => Command::StyleFromPhoto(Some(path)),
        DialogPurpose::ImportStyle => Command::ImportStyle(Some(path)),
        DialogPurpose::EditPhoto => Command::EditPhoto(Some(path)),
        DialogPurpose::Train(pick) => Command::Train(TrainCommand::Picked(pick, path)),
        // The native save dialog has already asked before choosing an existing file (rfd's
        // portal, zenity --confirm-overwrite, Windows and macOS dialogs all do). A name typed
        // without an extension gets ".png" (a style file its suffix), a name the dialog did not
        // ask about.
        DialogPurpose::Save(kind @ SaveKind::Style(_)) if path.extension().is_none() => {
            Command::Save {
                kind,
                path: Some(with_style_suffix(path)),
                overwrite: false,
            }
        }
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
pub fn open_layout(path: &Path, state: &mut AppState, res: &mut Resources) {
    if path.is_dir() {
        // A dropped folder: say so, rather than "not a PNG".
        let e = IoError::Folder(path.to_path_buf());
        return res
            .messages
            .show_error("Cannot open a folder", e.to_string());
    }
    if !is_png(path) {
        res.messages.show_error(
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
    match read_layout_for_canvas(path, res) {
        Ok(map) => {
            res.doc.replace_labels(map);
            res.doc.source = Some(path.to_path_buf());
            state.last_open_dir = path.parent().map(Path::to_path_buf);
            res.messages.error = None;
            let stopped = res.end_edit();
            res.messages
                .show_notice(format!("Opened {}{stopped}", path.display()));
        }
        Err(e) => res
            .messages
            .show_error(format!("Could not open {}", file_name(path)), e.to_string()),
    }
}

/// The layout PNG in `path` in the canvas's classes, fitted to its size.
pub fn read_layout_for_canvas(path: &Path, res: &Resources) -> Result<LabelMap, IoError> {
    let doc = &res.doc;
    let (w, h) = (doc.labels.width(), doc.labels.height());
    crate::io::load_label_png(path, &doc.classes, doc.dontcare)
        .and_then(|map| crate::io::fit_label_map(map, w, h, path))
}

/// The file name of `path` for titles (the whole path when it has none).
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The compare view's images with their captions, for the grid export. `None` until every
/// chosen model has an image of the current layout and seed.
pub fn grid_cells(state: &AppState, res: &Resources) -> Option<Vec<GridCell>> {
    if !res.compare_ready(state) {
        return None;
    }
    state
        .compare_models
        .iter()
        .map(|id| {
            let result = res.models.result(id)?;
            let mut caption = vec![res.models.model_name(id)];
            if let Some(p) = res.models.package(id) {
                caption.push(p.meta.architecture_line());
            }
            let precision = res
                .models
                .precision_label(id)
                .map_or_else(String::new, |p| format!(" · {p}"));
            caption.push(format!(
                "{}{precision} · {}",
                latency_text(result.latency_ms),
                res.model_style(state, id).caption()
            ));
            Some(GridCell {
                image: result.image.clone(),
                caption,
            })
        })
        .collect()
}

/// False (with an error report) when `kind` has nothing to write yet, so no dialog opens
/// for nothing.
pub fn ready_to_save(kind: SaveKind, state: &AppState, res: &mut Resources) -> bool {
    let ready = match kind {
        SaveKind::LayoutIds | SaveKind::LayoutColors => true,
        SaveKind::Image => res.has_image(state),
        SaveKind::Grid => grid_cells(state, res).is_some(),
        SaveKind::Style(index) => index < state.saved_styles.len(),
        SaveKind::EditedPhoto | SaveKind::EditedPhotoFullSize => {
            if let Some(reason) = res.edit_not_exportable() {
                res.messages.show_error("Nothing to export yet", reason);
                return false;
            }
            true
        }
    };
    if !ready {
        report_nothing_to_export(kind, res);
    }
    ready
}

fn report_nothing_to_export(kind: SaveKind, res: &mut Resources) {
    let message = match kind {
        SaveKind::Grid => {
            "Choose at least two models in the compare view and wait until each shows the \
             current layout."
        }
        _ => "The active model has not produced an image yet; wait for it to render.",
    };
    res.messages.show_error("Nothing to export yet", message);
}

/// Writes a layout, the image or the grid (the other kinds are written by `super::style` and
/// `super::edit`). An existing file is only replaced with `overwrite` (after the user agreed);
/// otherwise the user is asked.
pub fn save_file(
    kind: SaveKind,
    path: PathBuf,
    overwrite: bool,
    state: &mut AppState,
    res: &mut Resources,
) {
    let layout = matches!(kind, SaveKind::LayoutIds | SaveKind::LayoutColors);
    if layout && !is_png(&path) {
        // Opening accepts only .png names: a layout saved under another could not be reopened.
        return res.messages.show_error(
            format!("{} failed", kind.title()),
            format!(
                "{} is not a .png name; a layout is saved as a PNG: choose a name ending in .png",
                path.display()
            ),
        );
    }
    let doc = &res.doc;
    let result = match kind {
        SaveKind::LayoutIds => save_label_ids_png(&path, &doc.labels, overwrite),
        SaveKind::LayoutColors => save_label_color_png(&path, &doc.labels, &doc.palette, overwrite),
        SaveKind::Image => {
            let image = state
                .active_model
                .as_deref()
                .and_then(|id| res.models.result(id))
                .map(|r| &r.image);
            match image {
                Some(image) => save_image(&path, image, overwrite),
                None => return report_nothing_to_export(kind, res),
            }
        }
        SaveKind::Grid => match grid_cells(state, res) {
            Some(cells) => save_image(&path, &compare_grid(&cells), overwrite),
            None => return report_nothing_to_export(kind, res),
        },
        SaveKind::Style(_) | SaveKind::EditedPhoto | SaveKind::EditedPhotoFullSize => return,
    };
    match result {
        Ok(()) => {
            state.last_save_dir = path.parent().map(Path::to_path_buf);
            res.messages
                .show_notice(format!("{} to {}", kind.done(), path.display()));
        }
        Err(IoError::Exists(path)) => res.overwrite = Some(OverwriteQuestion { kind, path }),
        Err(e) => res
            .messages
            .show_error(format!("{} failed", kind.title()), e.to_string()),
    }
}

/// A style file's name for a save dialog's answer typed without the suffix.
pub fn with_style_suffix(path: PathBuf) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    match name {
        Some(n) if n.ends_with(".json") => path,
        Some(n) => path.with_file_name(format!("{n}{STYLE_FILE_SUFFIX}")),
        None => path,
    }
}
