use std::path::{Path, PathBuf};

use super::meta::ModelMeta;

pub const METADATA_FILE: &str = "model.json";
pub const NETWORK_FILE: &str = "model.onnx";
pub const ENCODER_FILE: &str = "encoder.onnx";

/// Why a package cannot be used. Every message names the file at fault.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PackageError {
    #[error("{} is missing; a model package is a folder with model.json and model.onnx", .0.display())]
    MissingFile(PathBuf),
    #[error("cannot read {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error("{} {reason}", .path.display())]
    Metadata { path: PathBuf, reason: String },
    #[error("{}", .0)]
    Network(String),
    #[error("id {id:?} is already provided by {}; rename one of the packages", .first.display())]
    Duplicate { id: String, first: PathBuf },
}

/// A package whose metadata has been read and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPackage {
    pub dir: PathBuf,
    pub meta: ModelMeta,
}

impl ModelPackage {
    /// Reads and validates `dir/model.json` and checks that `dir/model.onnx` exists.
    /// The network itself is checked by [`crate::inference::check_package`].
    pub fn load(dir: &Path) -> Result<ModelPackage, PackageError> {
        let json_path = dir.join(METADATA_FILE);
        if !json_path.is_file() {
            return Err(PackageError::MissingFile(json_path));
        }
        let text = std::fs::read_to_string(&json_path).map_err(|e| PackageError::Read {
            path: json_path.clone(),
            message: e.to_string(),
        })?;
        let meta = ModelMeta::from_json(&text).map_err(|reason| PackageError::Metadata {
            path: json_path.clone(),
            reason,
        })?;
        let onnx = dir.join(NETWORK_FILE);
        if !onnx.is_file() {
            return Err(PackageError::MissingFile(onnx));
        }
        Ok(ModelPackage {
            dir: dir.to_path_buf(),
            meta,
        })
    }

    pub fn onnx_path(&self) -> PathBuf {
        self.dir.join(NETWORK_FILE)
    }

    /// The optional style encoder.
    pub fn encoder_path(&self) -> Option<PathBuf> {
        Some(self.dir.join(ENCODER_FILE)).filter(|p| p.is_file())
    }

    /// The optional model card.
    pub fn readme_path(&self) -> Option<PathBuf> {
        Some(self.dir.join("README.md")).filter(|p| p.is_file())
    }
}
