//! "Open photo as layout" in progress: a segmenter turning a photo into a label map on a helper
//! thread.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use crate::canvas::LabelMap;

/// A photo being segmented.
pub struct PhotoJob {
    pub photo: PathBuf,
    /// Id of the segmenter package.
    pub segmenter: String,
    pub rx: Receiver<Result<LabelMap, String>>,
}
