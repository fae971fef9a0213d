//! Style encoders (`encoder.onnx` beside a generator's `model.onnx`): a photo becomes the mean
//! style vector `mu` that the generator takes as z ("style from a photo").

use std::path::{Path, PathBuf};

use image::RgbImage;
use ort::session::Session;
use ort::value::{Tensor, TensorElementType, ValueType};

use super::providers::{ProviderPreference, ProviderReport};
use super::segmenter::{fit_photo, photo_tensor, read_photo};
use super::session::{InferenceError, create_session};
use crate::models::{ENCODER_FILE, ModelKind, ModelMeta, ModelPackage};
use crate::style::{StyleVector, thumbnail};

/// A generator package's style encoder with its ONNX Runtime session.
pub struct StyleEncoder {
    session: Session,
    meta: ModelMeta,
    path: PathBuf,
    provider: ProviderReport,
}

impl std::fmt::Debug for StyleEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StyleEncoder")
            .field("id", &self.meta.id)
            .field("path", &self.path)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// Whether the package ships a style encoder.
pub fn has_encoder(package: &ModelPackage) -> bool {
    package.meta.kind == ModelKind::Generator && package.encoder_path().is_some()
}

/// What to do when encoder.onnx does not fit its generator.
const EXPORT_AGAIN: &str = "export the package again from its checkpoint (the trainer writes \
                            encoder.onnx for models trained with a style encoder), or remove \
                            encoder.onnx to use the model with seeds only";

/// Checks the encoder's inputs and outputs against the generator's model.json: input `image`
/// float32 [N, 3, H, W]; outputs `mu` (and `logvar`, when there) float32 [N, z_dim]. Symbolic
/// dimensions pass (`mu`'s size is then checked when it runs).
fn check_encoder_io(session: &Session, meta: &ModelMeta) -> Result<(), String> {
    let (h, w) = (i64::from(meta.height), i64::from(meta.width));
    let inputs: Vec<&str> = session.inputs().iter().map(|o| o.name()).collect();
    if inputs != ["image"] {
        return Err(format!(
            "has inputs {inputs:?}; a style encoder takes one input `image` (float32 [N, 3, {h}, \
             {w}], RGB in [-1, 1])"
        ));
    }
    let tensor = |outlet: &ort::value::Outlet| match outlet.dtype() {
        ValueType::Tensor { ty, shape, .. } => Some((*ty, shape.to_vec())),
        _ => None,
    };
    let fixed_differs = |got: i64, want: i64| got >= 0 && got != want;
    let input = &session.inputs()[0];
    match tensor(input) {
        Some((TensorElementType::Float32, dims))
            if dims.len() == 4
                && !fixed_differs(dims[1], 3)
                && !fixed_differs(dims[2], h)
                && !fixed_differs(dims[3], w) => {}
        other => {
            return Err(format!(
                "input `image` is {}; expected float32 [N, 3, {h}, {w}] (3 colours at the \
                 model's height and width in model.json)",
                describe(other)
            ));
        }
    }
    let outputs = session.outputs();
    let Some(mu) = outputs.iter().find(|o| o.name() == "mu") else {
        let names: Vec<&str> = outputs.iter().map(|o| o.name()).collect();
        return Err(format!(
            "has no output `mu` (its outputs are {names:?}); a style encoder returns `mu` and \
             `logvar`, float32 [N, z_dim]"
        ));
    };
    for o in std::iter::once(mu).chain(outputs.iter().filter(|o| o.name() == "logvar")) {
        match tensor(o) {
            Some((TensorElementType::Float32, dims)) if dims.len() == 2 => {
                if fixed_differs(dims[1], meta.z_dim as i64) {
                    return Err(z_dim_mismatch(&meta.id, dims[1], meta.z_dim));
                }
            }
            other => {
                return Err(format!(
                    "output `{}` is {}; expected float32 [N, {}] (z_dim of model.json)",
                    o.name(),
                    describe(other),
                    meta.z_dim
                ));
            }
        }
    }
    Ok(())
}

fn describe(t: Option<(TensorElementType, Vec<i64>)>) -> String {
    match t {
        Some((ty, dims)) => format!("{ty} {dims:?}"),
        None => "not a tensor".into(),
    }
}

fn z_dim_mismatch(model: &str, got: impl std::fmt::Display, z_dim: usize) -> String {
    format!(
        "its style vector `mu` has {got} values but the generator of {model} takes z of {z_dim} \
         (z_dim in model.json): this encoder belongs to another model; {EXPORT_AGAIN}"
    )
}

impl StyleEncoder {
    /// Opens the package's `encoder.onnx` on the preferred provider (the generator's provider
    /// logic: an accelerator when there is one, else CPU) and checks it against model.json.
    pub fn load(
        package: &ModelPackage,
        pref: ProviderPreference,
    ) -> Result<StyleEncoder, InferenceError> {
        let meta = package.meta.clone();
        if meta.kind != ModelKind::Generator {
            return Err(InferenceError::NotAGenerator {
                model: meta.id,
                kind: meta.kind,
            });
        }
        let Some(path) = package.encoder_path() else {
            return Err(InferenceError::NoEncoder {
                model: meta.id,
                path: package.dir.join(ENCODER_FILE),
            });
        };
        let (session, provider) = create_session(&path, pref)?;
        check_encoder_io(&session, &meta).map_err(|m| InferenceError::Mismatch {
            path: path.clone(),
            message: if m.contains(EXPORT_AGAIN) {
                m
            } else {
                format!("{m}; {EXPORT_AGAIN}")
            },
        })?;
        tracing::info!("{}: style encoder on {provider}", meta.id);
        Ok(StyleEncoder {
            session,
            meta,
            path,
            provider,
        })
    }

    /// The generator's metadata (the encoder shares its size and z_dim).
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    pub fn provider(&self) -> &ProviderReport {
        &self.provider
    }

    /// The encoder.onnx file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The photo's mean style `mu` (z_dim values). The photo is fitted to the model as a photo
    /// becomes a layout: centre-cropped to the model's aspect ratio, resized to its size.
    pub fn encode(&mut self, photo: &RgbImage) -> Result<Vec<f32>, InferenceError> {
        let tensor = photo_tensor(photo, self.meta.width, self.meta.height);
        let id = self.meta.id.clone();
        let err = |e: &dyn std::fmt::Display| InferenceError::Run {
            model: id.clone(),
            message: format!("style encoder: {e}"),
        };
        let input = Tensor::from_array(tensor).map_err(|e| err(&e))?;
        let outputs = self
            .session
            .run(ort::inputs!["image" => input])
            .map_err(|e| err(&e))?;
        let mu = outputs
            .get("mu")
            .ok_or_else(|| err(&"the encoder returned no `mu` output"))?;
        let array = mu.try_extract_array::<f32>().map_err(|e| err(&e))?;
        let shape = array.shape().to_vec();
        if shape.len() != 2 || shape[0] != 1 {
            return Err(err(&format!(
                "`mu` has shape {shape:?}, expected [1, z_dim]"
            )));
        }
        if shape[1] != self.meta.z_dim {
            return Err(InferenceError::Mismatch {
                path: self.path.clone(),
                message: z_dim_mismatch(&self.meta.id, shape[1], self.meta.z_dim),
            });
        }
        let z: Vec<f32> = array.iter().copied().collect();
        if z.iter().any(|v| !v.is_finite()) {
            return Err(InferenceError::Mismatch {
                path: self.path.clone(),
                message: format!(
                    "the style encoder returned values that are not finite numbers (NaN or \
                     infinity) for this photo; {EXPORT_AGAIN}"
                ),
            });
        }
        Ok(z)
    }

    /// The photo's style for this model, with a thumbnail of the part the model saw;
    /// `source` is the photo's name to show.
    pub fn style_from_photo(
        &mut self,
        photo: &RgbImage,
        source: Option<String>,
    ) -> Result<StyleVector, InferenceError> {
        let z = self.encode(photo)?;
        let seen = fit_photo(photo, self.meta.width, self.meta.height);
        Ok(StyleVector {
            z,
            model_id: self.meta.id.clone(),
            source,
            thumbnail: Some(thumbnail(&seen)),
        })
    }

    /// Reads the photo at `path` (PNG or JPEG, within the size limits of photo-to-layout) and
    /// returns its style for this model.
    pub fn style_from_photo_file(&mut self, path: &Path) -> Result<StyleVector, InferenceError> {
        let photo = read_photo(path)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        self.style_from_photo(&photo, name)
    }
}
