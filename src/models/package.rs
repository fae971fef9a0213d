use std::path::{Path, PathBuf};

use super::meta::ModelMeta;
use super::variant::Int8Variant;

pub const METADATA_FILE: &str = "model.json";
pub const NETWORK_FILE: &str = "model.onnx";
pub const ENCODER_FILE: &str = "encoder.onnx";

/// Why a package cannot be used. Every message names the file at fault.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PackageError {
    #[error(
        "{} is missing; a model package is a folder with model.json and model.onnx: put the \
         file there (the trainer's export writes both)", .0.display()
    )]
    MissingFile(PathBuf),
    #[error(
        "{} is {what}, not a {expected}; replace it with the {expected} {} the trainer exported",
        .path.display(), .path.file_name().unwrap_or_default().to_string_lossy()
    )]
    NotAFile {
        path: PathBuf,
        what: &'static str,
        expected: &'static str,
    },
    #[error(
        "{} is a symbolic link to {}, which does not exist; point it at the real file or folder, \
         or replace it with a copy", .path.display(), .target.display()
    )]
    BrokenLink { path: PathBuf, target: PathBuf },
    #[error("cannot read {}: {message}; {hint}", .path.display())]
    Read {
        path: PathBuf,
        message: String,
        hint: &'static str,
    },
    #[error("{} {reason}", .path.display())]
    Metadata { path: PathBuf, reason: String },
    #[error("{}", .0)]
    Network(String),
    #[error(
        "id {id:?} is already provided by {}, which comes first ({why}); this copy is not used: \
         give it another id in {}/model.json (and its folder that name) or remove it",
        .first.display(), .this.display()
    )]
    Duplicate {
        id: String,
        first: PathBuf,
        this: PathBuf,
        why: &'static str,
    },
}

/// model.json is a few kilobytes; anything this big is not one (and is not read into memory).
const MAX_METADATA_BYTES: u64 = 16 << 20;

/// What to do when `path` cannot be read.
fn read_error(path: &Path, e: &std::io::Error) -> PackageError {
    let hint = match e.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "give the user running SceneBrush read access to it (e.g. chmod a+r)"
        }
        _ if e.raw_os_error() == Some(40) && cfg!(target_os = "linux") => {
            "a symbolic link on its path points back at itself: replace it with the real file"
        }
        _ => "replace it with an intact copy of the package",
    };
    PackageError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
        hint,
    }
}

/// Checks that `path` is there and is what it should be (a file or a folder), saying what it
/// is instead. Returns the size of a file.
fn check_entry(path: &Path, folder: bool) -> Result<u64, PackageError> {
    match std::fs::metadata(path) {
        Ok(m) if folder && m.is_dir() => Ok(0),
        Ok(m) if !folder && m.is_file() => Ok(m.len()),
        Ok(m) => Err(PackageError::NotAFile {
            path: path.to_path_buf(),
            what: if m.is_dir() {
                "a folder"
            } else if m.is_file() {
                "a file"
            } else {
                "a device, pipe or socket"
            },
            expected: if folder { "folder" } else { "file" },
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::read_link(path) {
            Ok(target) => Err(PackageError::BrokenLink {
                path: path.to_path_buf(),
                target,
            }),
            Err(_) => Err(PackageError::MissingFile(path.to_path_buf())),
        },
        Err(e) => Err(read_error(path, &e)),
    }
}

/// A package whose metadata has been read and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPackage {
    pub dir: PathBuf,
    pub meta: ModelMeta,
    /// The optional int8 variant of model.onnx (`variants.int8`): its problems never make the
    /// package unusable, the float graph runs instead.
    pub int8: Int8Variant,
}

impl ModelPackage {
    /// Reads and validates `dir/model.json` and checks that `dir/model.onnx` exists (and the int8
    /// variant's file, when listed: a problem there is kept in [`ModelPackage::int8`]).
    /// The networks themselves are checked by [`crate::inference::check_package`].
    pub fn load(dir: &Path) -> Result<ModelPackage, PackageError> {
        check_entry(dir, true)?;
        let json_path = dir.join(METADATA_FILE);
        let size = check_entry(&json_path, false)?;
        if size > MAX_METADATA_BYTES {
            return Err(PackageError::Metadata {
                path: json_path,
                reason: format!(
                    "is {size} bytes; a model.json is a few kilobytes: put the package's \
                     metadata there (docs/model-package.md)"
                ),
            });
        }
        let bytes = std::fs::read(&json_path).map_err(|e| read_error(&json_path, &e))?;
        let text = String::from_utf8(bytes).map_err(|e| PackageError::Metadata {
            path: json_path.clone(),
            reason: format!("is not UTF-8 text ({e}); save it as UTF-8 JSON"),
        })?;
        let meta = ModelMeta::from_json(&text).map_err(|reason| PackageError::Metadata {
            path: json_path.clone(),
            reason,
        })?;
        check_entry(&dir.join(NETWORK_FILE), false)?;
        let int8 = match meta.kind {
            super::meta::ModelKind::Generator => {
                Int8Variant::read(meta.variants.as_ref(), dir, &json_path)
            }
            super::meta::ModelKind::Segmenter => Int8Variant::Absent,
        };
        Ok(ModelPackage {
            dir: dir.to_path_buf(),
            meta,
            int8,
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
