//! A photo being edited ("Edit a photo…"): the photo, its layout from the segmenter, the mask
//! of what the user repainted and the edited photo on screen. The blending itself is
//! `crate::edit` (the photo's pixels are kept bit for bit outside the dilated mask).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use image::RgbImage;

use crate::canvas::LabelMap;
use crate::edit::{EditMask, PhotoEdit};

use super::models::RenderKey;

/// Numbers the edit sessions (textures of an earlier one are stale).
static SESSIONS: AtomicU64 = AtomicU64::new(0);

/// The photo being edited and what the result shows of it.
pub struct EditSession {
    /// Tells this session from earlier ones.
    pub serial: u64,
    /// The photo file (for titles and the style).
    pub photo_path: PathBuf,
    /// The photo, the part the model sees, and its own layout at the model's size.
    pub edit: PhotoEdit,
    /// The painting before the photo's layout replaced it: when Undo brings it back, the edit
    /// ends.
    pub before: LabelMap,
    /// The mask of the layout at `mask_version`.
    pub mask: EditMask,
    pub mask_version: u64,
    /// The edited photo at the model's size, and the model and render it was blended from
    /// (`None`: the layout is the photo's own, so this is the photo itself).
    pub edited: RgbImage,
    pub edited_from: Option<(String, RenderKey)>,
    /// The layout version `edited` shows.
    pub edited_version: u64,
    /// The generated image blended in (model size), for the full-size export.
    pub generated: Option<RgbImage>,
    /// `edited` shows the current layout and style (set when the edit is brought up to date).
    pub up_to_date: bool,
    /// Counts changes of `mask` and `edited` (textures showing an older one are stale).
    pub revision: u64,
}

impl EditSession {
    /// A session for `edit` whose layout (the photo's own) is the canvas at `version`.
    pub fn new(
        photo_path: PathBuf,
        edit: PhotoEdit,
        before: LabelMap,
        version: u64,
    ) -> EditSession {
        let (w, h) = (edit.original_layout.width(), edit.original_layout.height());
        let mask = EditMask::from_changed(&vec![false; (w * h) as usize], w, h);
        EditSession {
            serial: SESSIONS.fetch_add(1, Ordering::Relaxed) + 1,
            photo_path,
            edited: edit.fitted.clone(),
            edit,
            before,
            mask,
            mask_version: version,
            edited_from: None,
            edited_version: version,
            generated: None,
            up_to_date: true,
            revision: 1,
        }
    }

    /// The photo's file name.
    pub fn photo_name(&self) -> String {
        self.photo_path.file_name().map_or_else(
            || self.photo_path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// `edited` shows the layout at `version` in the current style (else an older one while
    /// the new render is on its way).
    pub fn is_current(&self, version: u64) -> bool {
        self.up_to_date && self.edited_version == version && self.mask_version == version
    }
}
