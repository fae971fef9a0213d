//! "Open photo as layout" and "Edit a photo…" in progress: a segmenter turning a photo into a
//! label map on a helper thread.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use image::RgbImage;

use crate::canvas::LabelMap;

/// What the segmented photo is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoPurpose {
    /// Its layout replaces the canvas.
    Layout,
    /// Its layout replaces the canvas and the photo is edited (the job returns the photo too).
    Edit,
}

/// What a photo job reports: the layout, and the photo when it is to be edited.
pub struct SegmentedPhoto {
    pub labels: LabelMap,
    pub photo: Option<RgbImage>,
}

/// A photo being segmented.
pub struct PhotoJob {
    pub photo: PathBuf,
    /// Id of the segmenter package.
    pub segmenter: String,
    pub purpose: PhotoPurpose,
    pub rx: Receiver<Result<SegmentedPhoto, String>>,
}
