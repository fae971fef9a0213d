//! `--style PHOTO_OR_STYLE_FILE` of `render`, `compare` and `edit`: a photo's style (from each
//! model's style encoder) or a saved style file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::RgbImage;

use crate::inference::{ProviderPreference, StyleEncoder, has_encoder, init_runtime, read_photo};
use crate::models::ModelPackage;
use crate::style::{SavedStyle, Style, StyleError, is_style_file};

/// What `--style` named, read once (before any model runs).
pub(super) enum StyleInput {
    Photo { path: PathBuf, photo: RgbImage },
    File { path: PathBuf, saved: SavedStyle },
}

/// The style a model gets, or why it falls back to the seed.
pub(super) enum Resolved {
    Style(Style),
    /// The model cannot take this style (no encoder, or a style file for another model).
    Fallback {
        why: String,
        error: anyhow::Error,
    },
}

impl StyleInput {
    /// Reads `--style`: a style file (a `.json` name, or JSON content) or a photo (PNG or JPEG,
    /// within the photo size limits).
    pub(super) fn read(path: &Path) -> anyhow::Result<StyleInput> {
        if path.is_dir() {
            return Err(crate::io::IoError::Folder(path.to_path_buf()).into());
        }
        if !path.is_file() {
            bail!(
                "--style {} does not exist; give a photo (PNG or JPEG) or a style file saved with \
                 --save-style",
                path.display()
            );
        }
        if is_style_file(path) {
            Ok(StyleInput::File {
                path: path.to_path_buf(),
                saved: SavedStyle::load(path)?,
            })
        } else {
            Ok(StyleInput::Photo {
                path: path.to_path_buf(),
                photo: read_photo(path)?,
            })
        }
    }

    pub(super) fn path(&self) -> &Path {
        match self {
            StyleInput::Photo { path, .. } | StyleInput::File { path, .. } => path,
        }
    }

    fn file_name(&self) -> String {
        let path = self.path();
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The style for one model: a photo is encoded by the model's encoder; a style file is
    /// checked against the model.
    pub(super) fn resolve(
        &self,
        package: &ModelPackage,
        pref: ProviderPreference,
    ) -> anyhow::Result<Resolved> {
        let id = &package.meta.id;
        match self {
            StyleInput::Photo { photo, .. } => {
                if !has_encoder(package) {
                    let error = anyhow::Error::new(crate::inference::InferenceError::NoEncoder {
                        model: id.clone(),
                        path: package.dir.join(crate::models::ENCODER_FILE),
                    })
                    .context(format!("--style {}", self.path().display()));
                    return Ok(Resolved::Fallback {
                        why: "no style encoder".into(),
                        error,
                    });
                }
                init_runtime()?;
                let mut encoder = StyleEncoder::load(package, pref).with_context(|| {
                    format!("the style encoder of model {id:?} cannot be loaded")
                })?;
                let vector = encoder.style_from_photo(photo, Some(self.file_name()))?;
                Ok(Resolved::Style(Style::Vector(vector)))
            }
            StyleInput::File { path, saved } => match saved.check_for(&package.meta, Some(path)) {
                Ok(()) => Ok(Resolved::Style(saved.style.clone())),
                Err(e @ StyleError::WrongModel { .. }) => {
                    let why = match &saved.style {
                        Style::Vector(v) => format!("style is for {}", v.model_id),
                        Style::Seed(_) => "style does not fit".into(),
                    };
                    Ok(Resolved::Fallback {
                        why,
                        error: e.into(),
                    })
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// The style's name when it is saved: the style file's own name, else the photo's name.
    pub(super) fn name(&self) -> String {
        match self {
            StyleInput::File { saved, .. } => saved.name.clone(),
            StyleInput::Photo { .. } => self.file_name(),
        }
    }
}

/// Fails early when `--save-style FILE` cannot be written.
pub(super) fn check_style_output(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!(
            "--save-style {} is a folder; give a file name such as {}",
            path.display(),
            path.join(format!("mine{}", crate::style::STYLE_FILE_SUFFIX))
                .display()
        );
    }
    super::check_new_file(path, force)
}
