//! The session file: the layout being painted, kept across restarts.

use std::path::PathBuf;

use crate::io::IoError;

use super::document::Document;

/// Where the layout is kept, and the document version last written there.
#[derive(Debug, Clone, Default)]
pub struct SessionFile {
    /// `None` keeps nothing (not asked for, or the last one could not be moved aside).
    pub path: Option<PathBuf>,
    pub saved: Option<u64>,
}

impl SessionFile {
    /// Writes the layout if it changed since the last write (atomically, so a crash mid-write
    /// leaves the previous one). Returns whether it wrote.
    pub fn save(&mut self, doc: &Document) -> Result<bool, IoError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        if self.saved == Some(doc.version) {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| IoError::Write {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        crate::io::save_label_ids_png(path, &doc.labels, true)?;
        self.saved = Some(doc.version);
        Ok(true)
    }
}
