//! File dialogs waiting for the user, and a save waiting for "replace the existing file?".

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use crate::ui::state::{SaveKind, TrainPick};

/// What a pending file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    Open,
    /// A photo to segment into the canvas.
    OpenPhoto,
    /// A photo whose style to take.
    StylePhoto,
    /// A style file to add to the style strip.
    ImportStyle,
    /// A photo to edit.
    EditPhoto,
    Save(SaveKind),
    /// A folder or file for the Train tab.
    Train(TrainPick),
}

/// A native file dialog running on its own thread; its answer (`None`: cancelled) arrives
/// through `rx`.
pub struct PendingDialog {
    pub purpose: DialogPurpose,
    pub rx: Receiver<Option<PathBuf>>,
}

impl PendingDialog {
    pub fn new(purpose: DialogPurpose, rx: Receiver<Option<PathBuf>>) -> Self {
        Self { purpose, rx }
    }
}

/// A save that would replace an existing file, waiting for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverwriteQuestion {
    pub kind: SaveKind,
    pub path: PathBuf,
}
