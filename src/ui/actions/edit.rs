//! "Edit a photo…": the photo's layout goes into the canvas (one undo step), its style into the
//! style controls, and the result shows the photo itself; where the user repaints, the
//! generated image is blended in through the edit mask (`crate::edit`), and only there. Export
//! at the model's size, or at the photo's own size on a helper thread.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{TryRecvError, channel};

use image::{DynamicImage, RgbImage};

use crate::canvas::LabelMap;
use crate::edit::PhotoEdit;
use crate::io::{IoError, save_image};
use crate::ui::resources::{EditSession, ExportJob, OverwriteQuestion, Resources};
use crate::ui::state::{AppState, SaveKind, View};

use super::files::{file_name, read_layout_for_canvas};
use super::style::start_style_job;

/// Whether `photo` can be edited with the active model (it can take the segmenter's layouts);
/// otherwise says why. The photo is then segmented (`super::photo`), and
/// [`photo_segmented`] starts the edit.
pub fn can_edit(path: &Path, state: &AppState, res: &mut Resources) -> bool {
    let title = format!("Cannot edit {}", file_name(path));
    let Some(id) = state.active_model.clone() else {
        res.messages.show_error(
            title,
            "Editing a photo needs a generator model that can run, and none can; the Models \
             window says why.",
        );
        return false;
    };
    if let (Some(segmenter), Some(generator)) = (
        res.models.registry.default_segmenter(),
        res.models.package(&id),
    ) {
        let aspect = |w: u32, h: u32| f64::from(w) / f64::from(h.max(1));
        let (s, g) = (&segmenter.meta, &generator.meta);
        if (aspect(s.width, s.height) / aspect(g.width, g.height) - 1.0).abs() > 0.01 {
            res.messages.show_error(
                title,
                format!(
                    "The segmenter {} sees photos at {}x{} and the model {} at {}x{}: other \
                     aspect ratios crop the photo differently, so the edit would not line up \
                     with the photo. Choose a model with the segmenter's aspect ratio.",
                    s.id, s.width, s.height, g.id, g.width, g.height
                ),
            );
            return false;
        }
    }
    true
}

/// The segmented photo to edit: its layout `labels` (already in the canvas, replacing
/// `before`) and the photo itself. The result now shows the photo; its style becomes the
/// current one when the model has a style encoder.
pub fn photo_segmented(
    path: &Path,
    photo: RgbImage,
    before: LabelMap,
    state: &mut AppState,
    res: &mut Resources,
) {
    let Some(id) = state.active_model.clone() else {
        return;
    };
    let (w, h) = (res.doc.labels.width(), res.doc.labels.height());
    let edit = PhotoEdit::new(photo, &res.doc.labels, w, h);
    let session = EditSession::new(path.to_path_buf(), edit, before, res.doc.version);
    let name = session.photo_name();
    res.edit = Some(session);
    state.view = View::Paint;
    let style = if res.has_encoder(&id) {
        start_style_job(path, vec![id.clone()], true, true, res);
        "its style is taken by the model's style encoder".to_string()
    } else {
        format!("{id} has no style encoder, so the seed gives the style of what you paint")
    };
    res.messages.show_notice(format!(
        "Editing {name}: repaint its layout; the photo is kept outside what you change ({style}). \
         Undo restores the painting before."
    ));
}

/// Repaints the photo being edited with the layout in `path` (fitted to the canvas as File >
/// Open fits a layout): one undo step, and the edit goes on.
pub fn apply_edited_layout(path: &Path, res: &mut Resources) {
    let title = format!("Cannot repaint with {}", file_name(path));
    let Some(session) = &res.edit else {
        return res.messages.show_error(
            title,
            "No photo is being edited: an edited layout repaints a photo opened with File > \
             Edit a photo… (or --edit-photo).",
        );
    };
    let name = session.photo_name();
    match read_layout_for_canvas(path, res) {
        Ok(map) => {
            res.doc.replace_labels(map);
            res.messages.show_notice(format!(
                "Repainted {name} with {} (Undo restores the photo's layout)",
                path.display()
            ));
        }
        Err(e) => res.messages.show_error(title, e.to_string()),
    }
}

/// Leaves photo editing, saying why.
pub fn stop_editing(res: &mut Resources, why: &str) {
    if let Some(session) = res.edit.take() {
        res.messages
            .show_notice(format!("Stopped editing {}{why}", session.photo_name()));
    }
}

/// Brings the edit up to date with the layout and the active model's image: the mask of what
/// changed, and the edited photo once the image of the current layout is there. Leaves editing
/// when Undo brought back the painting before the photo, or the layout changed size.
pub fn refresh(state: &AppState, res: &mut Resources) {
    let Some(session) = &res.edit else {
        return;
    };
    let version = res.doc.version;
    let labels = &res.doc.labels;
    let original = &session.edit.original_layout;
    if (labels.width(), labels.height()) != (original.width(), original.height()) {
        return stop_editing(
            res,
            ": the layout changed size with the model, so it no longer lines up with the photo",
        );
    }
    if session.mask_version != version && *labels == session.before && *labels != *original {
        return stop_editing(res, ": Undo restored the painting before the photo");
    }
    // The render the edited photo is blended from: the active model's, for this layout and
    // style.
    let key = state
        .active_model
        .as_deref()
        .map(|id| (id.to_string(), res.render_key_for(state, id)));
    let result = key.as_ref().and_then(|(id, key)| {
        res.models
            .result(id)
            .filter(|r| r.key == *key)
            .map(|r| (id.clone(), r))
    });
    let Some(session) = &mut res.edit else {
        return;
    };
    if session.mask_version != version {
        match session.edit.mask(&res.doc.labels) {
            Ok(mask) => session.mask = mask,
            Err(e) => {
                let reason = format!(": {e}");
                return stop_editing(res, &reason);
            }
        }
        session.mask_version = version;
        session.revision += 1;
    }
    if session.mask.is_empty() {
        if session.edited_version != version || session.edited_from.is_some() {
            session.edited = session.edit.fitted.clone();
            session.edited_from = None;
            session.generated = None;
            session.edited_version = version;
            session.revision += 1;
        }
        session.up_to_date = true;
        return;
    }
    session.up_to_date = session.edited_version == version && session.edited_from == key;
    let Some((id, result)) = result else {
        return;
    };
    if session.up_to_date {
        return;
    }
    let generated = DynamicImage::ImageRgba8(result.image.clone()).to_rgb8();
    match session.edit.edited(&generated, &session.mask) {
        Ok(edited) => {
            session.edited = edited;
            session.edited_from = Some((id, result.key));
            session.generated = Some(generated);
            session.edited_version = version;
            session.up_to_date = true;
            session.revision += 1;
        }
        Err(e) => {
            let reason = format!(": {e}");
            stop_editing(res, &reason);
        }
    }
}

/// Writes the edited photo: at the model's size here, at the photo's own size on a helper
/// thread. An existing file is only replaced with `overwrite` (otherwise the user is asked).
pub fn export_edited(
    kind: SaveKind,
    path: PathBuf,
    overwrite: bool,
    state: &mut AppState,
    res: &mut Resources,
) {
    if let Some(reason) = res.edit_not_exportable() {
        return res.messages.show_error("Nothing to export yet", reason);
    }
    let Some(session) = &res.edit else {
        return;
    };
    if kind == SaveKind::EditedPhoto {
        let image = DynamicImage::ImageRgb8(session.edited.clone()).to_rgba8();
        return match save_image(&path, &image, overwrite) {
            Ok(()) => exported(&path, state, res),
            Err(IoError::Exists(path)) => res.overwrite = Some(OverwriteQuestion { kind, path }),
            Err(e) => res
                .messages
                .show_error(format!("{} failed", kind.title()), e.to_string()),
        };
    }
    let edit = session.edit.clone();
    let mask = session.mask.clone();
    let generated = session.generated.clone();
    let (tx, rx) = channel();
    let job_path = path.clone();
    let spawned = std::thread::Builder::new()
        .name("export-edited-photo".into())
        .spawn(move || {
            let full = match &generated {
                Some(generated) => edit.edited_full_size(generated, &mask),
                None => Ok(edit.photo.clone()),
            };
            let written = match full {
                Ok(image) => save_image(
                    &job_path,
                    &DynamicImage::ImageRgb8(image).to_rgba8(),
                    overwrite,
                ),
                Err(e) => Err(IoError::Write {
                    path: job_path.clone(),
                    message: e.to_string(),
                }),
            };
            let _ = tx.send(written);
        });
    match spawned {
        Ok(_) => {
            res.export_job = Some(ExportJob { kind, path, rx });
            res.messages
                .show_notice("Writing the edited photo at full size…");
        }
        Err(e) => res
            .messages
            .show_error(format!("{} failed", kind.title()), e.to_string()),
    }
}

fn exported(path: &Path, state: &mut AppState, res: &mut Resources) {
    state.last_save_dir = path.parent().map(Path::to_path_buf);
    let jpeg = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
    let note = if jpeg {
        " (JPEG re-compresses every pixel; PNG keeps the photo's own pixels exactly)"
    } else {
        ""
    };
    res.messages.show_notice(format!(
        "Exported the edited photo to {}{note}",
        path.display()
    ));
}

/// Takes in a finished full-size export. True when something changed.
pub fn poll_export_job(state: &mut AppState, res: &mut Resources) -> bool {
    let Some(job) = &res.export_job else {
        return false;
    };
    let result = match job.rx.try_recv() {
        Err(TryRecvError::Empty) => return false,
        Ok(result) => result,
        Err(TryRecvError::Disconnected) => Err(IoError::Write {
            path: job.path.clone(),
            message: "the export thread stopped; nothing was written".into(),
        }),
    };
    let Some(job) = res.export_job.take() else {
        return false;
    };
    match result {
        Ok(()) => exported(&job.path, state, res),
        Err(IoError::Exists(path)) => {
            res.overwrite = Some(OverwriteQuestion {
                kind: job.kind,
                path,
            });
        }
        Err(e) => res
            .messages
            .show_error(format!("{} failed", job.kind.title()), e.to_string()),
    }
    true
}
