//! Styles: what a generator's noise input `z` is made of. A seed (noise drawn from it, the
//! same on every platform: works with every model) or a fixed vector, such as the mean style
//! (`mu`) a model's style encoder finds in a photo (only for that model). Styles to keep are
//! [`SavedStyle`]s, saved as small JSON files.
mod base64;
mod file;

use std::path::PathBuf;

use image::RgbImage;
use image::imageops::FilterType;
use ndarray::Array2;

use crate::canvas::LabelMap;
use crate::inference::{Generator, InferenceError, image_from_tensor, z_from_seed};
use crate::io::IoError;
use crate::models::ModelMeta;

pub use file::{
    MAX_STYLE_FILE_BYTES, STYLE_FILE_FORMAT, STYLE_FILE_SUFFIX, SavedStyle, is_style_file,
};

/// The longest side of a style's photo thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 96;

/// What a generator's `z` is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Style {
    /// z drawn from N(0, I) with this seed ([`z_from_seed`]): the app's "seed", for every model.
    Seed(u64),
    /// A fixed z for one model, e.g. a photo's style from that model's encoder.
    Vector(StyleVector),
}

/// A z for one model: made by that model's style encoder (or saved from it), so it means
/// nothing to another model, even one with the same z_dim.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleVector {
    /// The values, `z_dim` of them, all finite.
    pub z: Vec<f32>,
    /// The id of the model it was made for.
    pub model_id: String,
    /// The file name of the photo it was taken from, when there is one.
    pub source: Option<String>,
    /// A small picture of that photo (the part the model saw; longest side at most
    /// [`THUMBNAIL_SIDE`]), to show as the active style.
    pub thumbnail: Option<RgbImage>,
}

impl StyleVector {
    pub fn z_dim(&self) -> usize {
        self.z.len()
    }
}

/// Why a style cannot be used or kept. Every message names the file or the models and says
/// what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StyleError {
    #[error(
        "{} made for model {style_model} (z_dim {style_z_dim}), not for {model} (z_dim {z_dim}): a \
         photo's style only fits the model whose style encoder made it. Use it with \
         {style_model}, take the style from the photo again with {model}{}, or use a seed",
        .file.as_ref().map_or_else(|| "the style was".to_string(), |f| format!("the style file {} was", f.display())),
        if *.z_dim == 0 { " (it has no style input at all)" } else { "" }
    )]
    WrongModel {
        file: Option<PathBuf>,
        style_model: String,
        style_z_dim: usize,
        model: String,
        z_dim: usize,
    },
    #[error("style file {} does not exist; give a style file saved by SceneBrush (*{STYLE_FILE_SUFFIX})", .0.display())]
    Missing(PathBuf),
    #[error("{} is a folder, not a style file; pick a *{STYLE_FILE_SUFFIX} file inside it", .0.display())]
    Folder(PathBuf),
    #[error("cannot read the style file {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error(
        "{} is {size} bytes; a style file is a few kilobytes (at most {} MiB): is it the right file?",
        .path.display(), MAX_STYLE_FILE_BYTES >> 20
    )]
    TooBig { path: PathBuf, size: u64 },
    #[error("{} is not a SceneBrush style file: {reason}", .path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "{} is a style file of format {format}, newer than this SceneBrush reads \
         ({STYLE_FILE_FORMAT}); update SceneBrush", .path.display()
    )]
    Newer { path: PathBuf, format: u64 },
    #[error(transparent)]
    Write(#[from] IoError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

impl Style {
    /// Whether the style can be used with the model (a seed always can).
    pub fn fits(&self, meta: &ModelMeta) -> bool {
        self.check_for(meta).is_ok()
    }

    /// `Ok` when the style can be used with the model; otherwise why not, naming both models.
    pub fn check_for(&self, meta: &ModelMeta) -> Result<(), StyleError> {
        match self {
            Style::Seed(_) => Ok(()),
            Style::Vector(v) if v.model_id == meta.id && v.z_dim() == meta.z_dim => Ok(()),
            Style::Vector(v) => Err(StyleError::WrongModel {
                file: None,
                style_model: v.model_id.clone(),
                style_z_dim: v.z_dim(),
                model: meta.id.clone(),
                z_dim: meta.z_dim,
            }),
        }
    }

    /// The generator's `z` input for the model: [1, z_dim] (z_dim may be 0).
    pub fn z_for(&self, meta: &ModelMeta) -> Result<Array2<f32>, StyleError> {
        self.check_for(meta)?;
        Ok(match self {
            Style::Seed(seed) => z_from_seed(*seed, meta.z_dim),
            Style::Vector(v) => Array2::from_shape_vec((1, v.z.len()), v.z.clone())
                .expect("a vector of n values has shape [1, n]"),
        })
    }

    /// A few words for captions and messages: "seed 42", "style of street.jpg".
    pub fn describe(&self) -> String {
        match self {
            Style::Seed(seed) => format!("seed {seed}"),
            Style::Vector(StyleVector {
                source: Some(name), ..
            }) => format!("style of {name}"),
            Style::Vector(v) => format!("saved style for {}", v.model_id),
        }
    }

    /// The seed, for a seed style.
    pub fn seed(&self) -> Option<u64> {
        match self {
            Style::Seed(s) => Some(*s),
            Style::Vector(_) => None,
        }
    }
}

/// Synthesizes an image from `labels` with the style: [`Generator::generate`] for a seed (the
/// same z, so the same picture), the vector itself otherwise. A vector made for another model
/// is refused before anything runs.
pub fn generate(
    generator: &mut Generator,
    labels: &LabelMap,
    style: &Style,
) -> Result<image::RgbaImage, StyleError> {
    let z = style.z_for(generator.meta())?;
    let out = generator.infer(labels, z.view())?;
    Ok(image_from_tensor(out.view()))
}

/// A small copy of a photo for showing a style: the longest side at most [`THUMBNAIL_SIDE`].
pub fn thumbnail(photo: &RgbImage) -> RgbImage {
    let (w, h) = photo.dimensions();
    let longest = w.max(h);
    if longest <= THUMBNAIL_SIDE || w == 0 || h == 0 {
        return photo.clone();
    }
    let scale = f64::from(THUMBNAIL_SIDE) / f64::from(longest);
    let tw = ((f64::from(w) * scale).round() as u32).clamp(1, THUMBNAIL_SIDE);
    let th = ((f64::from(h) * scale).round() as u32).clamp(1, THUMBNAIL_SIDE);
    image::imageops::resize(photo, tw, th, FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, z_dim: usize) -> ModelMeta {
        let json = format!(
            r#"{{"format": 1, "id": "{id}", "name": "n", "kind": "generator",
                "architecture": "spade", "height": 32, "width": 32, "z_dim": {z_dim},
                "classes": [{{"id": 0, "name": "a", "color": [0, 0, 0]}}]}}"#
        );
        ModelMeta::from_json(&json).expect("valid meta")
    }

    fn vector(model: &str, z: Vec<f32>) -> Style {
        Style::Vector(StyleVector {
            z,
            model_id: model.into(),
            source: Some("street.jpg".into()),
            thumbnail: None,
        })
    }

    #[test]
    fn a_seed_is_todays_noise_and_fits_every_model() {
        for (id, z_dim) in [("a", 16), ("b", 8), ("c", 0)] {
            let m = meta(id, z_dim);
            let z = Style::Seed(7).z_for(&m).expect("seed fits");
            assert_eq!(z, z_from_seed(7, z_dim));
            assert!(Style::Seed(7).fits(&m));
        }
        assert_eq!(Style::Seed(7).describe(), "seed 7");
        assert_eq!(Style::Seed(7).seed(), Some(7));
    }

    #[test]
    fn a_vector_fits_only_its_model() {
        let style = vector("a", vec![0.5, -1.0, 2.0]);
        let z = style.z_for(&meta("a", 3)).expect("own model");
        assert_eq!(z.row(0).to_vec(), [0.5, -1.0, 2.0]);
        assert_eq!(style.describe(), "style of street.jpg");
        assert_eq!(style.seed(), None);
        for (id, z_dim) in [("b", 3), ("a", 4), ("a", 0)] {
            let err = style.z_for(&meta(id, z_dim)).expect_err("other model");
            let text = err.to_string();
            assert!(
                text.contains("made for model a (z_dim 3)")
                    && text.contains(&format!("not for {id} (z_dim {z_dim})"))
                    && text.contains("use a seed"),
                "{text}"
            );
            assert_eq!(z_dim == 0, text.contains("no style input"), "{text}");
        }
    }

    #[test]
    fn thumbnails_are_small_and_keep_the_aspect() {
        let photo = RgbImage::from_pixel(640, 480, image::Rgb([10, 200, 30]));
        let t = thumbnail(&photo);
        assert_eq!(t.dimensions(), (96, 72));
        assert_eq!(t.get_pixel(40, 30).0, [10, 200, 30]);
        let tall = RgbImage::new(30, 300);
        assert_eq!(thumbnail(&tall).dimensions(), (10, 96));
        let small = RgbImage::new(20, 10);
        assert_eq!(thumbnail(&small).dimensions(), (20, 10));
    }
}
