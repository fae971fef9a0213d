//! Segmenter packages: a photo becomes a label map of class ids (start a layout from a photo).

use std::path::{Path, PathBuf};

use image::RgbImage;
use image::imageops::FilterType;
use ndarray::{Array4, ArrayView4, Axis};
use ort::session::Session;
use ort::value::Tensor;

use super::providers::{ProviderPreference, ProviderReport};
use super::session::{InferenceError, check_session_io, create_session};
use crate::canvas::LabelMap;
use crate::models::{ModelKind, ModelMeta, ModelPackage};

/// A segmenter package with its ONNX Runtime session.
pub struct Segmenter {
    session: Session,
    meta: ModelMeta,
    path: PathBuf,
    provider: ProviderReport,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("id", &self.meta.id)
            .field("path", &self.path)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Segmenter {
    /// Creates the session on the preferred provider and checks it against model.json.
    pub fn load(
        package: &ModelPackage,
        pref: ProviderPreference,
    ) -> Result<Segmenter, InferenceError> {
        let meta = package.meta.clone();
        if meta.kind != ModelKind::Segmenter {
            return Err(InferenceError::NotASegmenter {
                model: meta.id,
                kind: meta.kind,
            });
        }
        let path = package.onnx_path();
        let (session, provider) = create_session(&path, pref)?;
        check_session_io(&session, &meta).map_err(|message| InferenceError::Mismatch {
            path: path.clone(),
            message,
        })?;
        Ok(Segmenter {
            session,
            meta,
            path,
            provider,
        })
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    pub fn provider(&self) -> &ProviderReport {
        &self.provider
    }

    /// Raw `logits` [1, C, H, W] for an `image` tensor [1, 3, H, W] in [-1, 1].
    pub fn logits(&mut self, image: Array4<f32>) -> Result<Array4<f32>, InferenceError> {
        let id = self.meta.id.clone();
        let err = |e: &dyn std::fmt::Display| InferenceError::Run {
            model: id.clone(),
            message: e.to_string(),
        };
        let input = Tensor::from_array(image).map_err(|e| err(&e))?;
        let outputs = self
            .session
            .run(ort::inputs!["image" => input])
            .map_err(|e| err(&e))?;
        let logits = outputs
            .get("logits")
            .ok_or_else(|| err(&"the network returned no `logits` output"))?;
        let array = logits.try_extract_array::<f32>().map_err(|e| err(&e))?;
        let array = array
            .into_dimensionality::<ndarray::Ix4>()
            .map_err(|e| err(&format!("`logits` output is not 4-dimensional: {e}")))?;
        let (_, c, h, w) = array.dim();
        if c != self.meta.classes.len()
            || h != self.meta.height as usize
            || w != self.meta.width as usize
        {
            return Err(err(&format!(
                "`logits` output has shape {:?}, expected [1, {}, {}, {}]",
                array.shape(),
                self.meta.classes.len(),
                self.meta.height,
                self.meta.width
            )));
        }
        Ok(array.to_owned())
    }

    /// The photo's label map at the model's size: centre-cropped to the model's aspect ratio,
    /// resized, segmented; the don't-care class is never predicted.
    pub fn segment(&mut self, photo: &RgbImage) -> Result<LabelMap, InferenceError> {
        let tensor = photo_tensor(photo, self.meta.width, self.meta.height);
        let logits = self.logits(tensor)?;
        Ok(labels_from_logits(logits.view(), self.meta.dontcare))
    }
}

/// The largest centred crop of a `pw` x `ph` photo with the aspect ratio of `width` x `height`,
/// as (x, y, crop width, crop height), or `None` when the photo already has it (within 1%).
pub fn aspect_crop_rect(pw: u32, ph: u32, width: u32, height: u32) -> Option<(u32, u32, u32, u32)> {
    if pw == 0 || ph == 0 || width == 0 || height == 0 {
        return None;
    }
    let want = f64::from(width) / f64::from(height);
    let got = f64::from(pw) / f64::from(ph);
    if (got / want - 1.0).abs() <= 0.01 {
        return None;
    }
    let (cw, ch) = if got > want {
        (((f64::from(ph) * want).round() as u32).clamp(1, pw), ph)
    } else {
        (pw, ((f64::from(pw) / want).round() as u32).clamp(1, ph))
    };
    Some(((pw - cw) / 2, (ph - ch) / 2, cw, ch))
}

/// The largest centred crop of `photo` with the aspect ratio of `width` x `height`, or `None`
/// when the photo already has it (within 1%).
pub fn crop_to_aspect(photo: &RgbImage, width: u32, height: u32) -> Option<RgbImage> {
    let (pw, ph) = photo.dimensions();
    let (x, y, cw, ch) = aspect_crop_rect(pw, ph, width, height)?;
    Some(image::imageops::crop_imm(photo, x, y, cw, ch).to_image())
}

/// The photo as a model sees it: centre-cropped to the model's aspect ratio and resized to
/// `width` x `height` bilinearly with antialiasing (as the trainer resizes photos). Borrowed
/// when the photo already is that size.
pub fn fit_photo(photo: &RgbImage, width: u32, height: u32) -> std::borrow::Cow<'_, RgbImage> {
    let cropped = crop_to_aspect(photo, width, height);
    let source = cropped.as_ref().unwrap_or(photo);
    if source.dimensions() == (width, height) {
        return match cropped {
            Some(c) => std::borrow::Cow::Owned(c),
            None => std::borrow::Cow::Borrowed(photo),
        };
    }
    std::borrow::Cow::Owned(image::imageops::resize(
        source,
        width,
        height,
        FilterType::Triangle,
    ))
}

/// `image` input: float32 [1, 3, H, W] in [-1, 1] from an RGB photo, centre-cropped to the
/// model's aspect ratio and resized bilinearly with antialiasing (as the trainer resizes photos).
pub fn photo_tensor(photo: &RgbImage, width: u32, height: u32) -> Array4<f32> {
    let photo = fit_photo(photo, width, height);
    let (w, h) = (width as usize, height as usize);
    let mut t = Array4::<f32>::zeros((1, 3, h, w));
    for (x, y, px) in photo.enumerate_pixels() {
        for c in 0..3 {
            t[[0, c, y as usize, x as usize]] = f32::from(px.0[c]) / 127.5 - 1.0;
        }
    }
    t
}

/// Per pixel the class with the largest logit (first batch item), skipping `dontcare`: a
/// layout made from a photo has no "unlabelled" holes.
pub fn labels_from_logits(logits: ArrayView4<f32>, dontcare: Option<u8>) -> LabelMap {
    let (n, c, h, w) = logits.dim();
    let mut map = LabelMap::new(w as u32, h as u32, 0);
    if n == 0 || c == 0 {
        return map;
    }
    let first = logits.index_axis(Axis(0), 0);
    let skip = dontcare.map(usize::from).filter(|&d| d < c && c > 1);
    let data = map.data_mut();
    for y in 0..h {
        for x in 0..w {
            let mut best = (f32::NEG_INFINITY, None);
            for class in (0..c).filter(|&k| Some(k) != skip) {
                let v = first[[class, y, x]];
                // NaN never wins; the first of equal logits does.
                if v > best.0 || (best.1.is_none() && !v.is_nan()) {
                    best = (v, Some(class));
                }
            }
            let fallback = if skip == Some(0) { 1 } else { 0 };
            data[y * w + x] = best.1.unwrap_or(fallback).min(255) as u8;
        }
    }
    map
}

/// Reads a photo (PNG or JPEG) as RGB.
pub fn read_photo(path: &Path) -> Result<RgbImage, InferenceError> {
    let error = |message: String| InferenceError::Photo {
        path: path.to_path_buf(),
        message,
    };
    if path.is_dir() {
        return Err(error(
            "it is a folder, not a file; pick a PNG or JPEG photo inside it".into(),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    // image's default limits: at most 512 MiB for the decoded pixels.
    let image = image::load_from_memory(&bytes).map_err(|e| match e {
        image::ImageError::Limits(_) => {
            let size = image::ImageReader::new(std::io::Cursor::new(&bytes))
                .with_guessed_format()
                .ok()
                .and_then(|r| r.into_dimensions().ok())
                .map_or_else(String::new, |(w, h)| {
                    format!(
                        "it is {w}x{h} pixels ({:.0} megapixels), ",
                        f64::from(w) * f64::from(h) / 1e6
                    )
                });
            error(format!(
                "{size}more than SceneBrush decodes ({} MiB of pixels, about {:.0} megapixels as \
                 RGBA); scale the photo down first (a model sees it at its own size anyway)",
                crate::io::MAX_DECODED_BYTES >> 20,
                crate::io::MAX_DECODED_BYTES as f64 / 4e6
            ))
        }
        e => error(format!(
            "{e}; give a PNG or JPEG photo (other formats: convert the photo first)"
        )),
    })?;
    Ok(image.to_rgb8())
}

/// Segments the photo at `path` with a segmenter package: the label map at the model's size.
pub fn labels_from_photo(
    package: &ModelPackage,
    path: &Path,
    pref: ProviderPreference,
) -> Result<LabelMap, InferenceError> {
    let photo = read_photo(path)?;
    let mut segmenter = Segmenter::load(package, pref)?;
    segmenter.segment(&photo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_skips_dontcare_and_nan() {
        let mut t = Array4::<f32>::zeros((1, 3, 1, 4));
        // pixel 0: class 2 wins; pixel 1: dontcare (1) is largest, next best is 0;
        // pixel 2: NaN in class 0 never wins; pixel 3: ties go to the first class.
        t[[0, 2, 0, 0]] = 5.0;
        t[[0, 1, 0, 1]] = 9.0;
        t[[0, 0, 0, 1]] = 1.0;
        t[[0, 0, 0, 2]] = f32::NAN;
        t[[0, 2, 0, 2]] = -1.0;
        let map = labels_from_logits(t.view(), Some(1));
        assert_eq!(map.data(), &[2, 0, 2, 0]);
        let map = labels_from_logits(t.view(), None);
        assert_eq!(map.data(), &[2, 1, 1, 0]);
        assert_eq!((map.width(), map.height()), (4, 1));
    }

    #[test]
    fn photos_are_cropped_to_the_model_aspect_and_scaled_to_minus_one_one() {
        // 8x4 (2:1) photo for a 4:4 model: the centre 4x4 is kept.
        let mut photo = RgbImage::from_pixel(8, 4, image::Rgb([0, 0, 0]));
        for y in 0..4 {
            for x in 2..6 {
                photo.put_pixel(x, y, image::Rgb([255, 128, 0]));
            }
        }
        let crop = crop_to_aspect(&photo, 4, 4).expect("cropped");
        assert_eq!(crop.dimensions(), (4, 4));
        assert!(crop.pixels().all(|p| p.0 == [255, 128, 0]));
        assert!(crop_to_aspect(&crop, 8, 8).is_none());
        let t = photo_tensor(&photo, 4, 4);
        assert_eq!(t.dim(), (1, 3, 4, 4));
        assert!(t.index_axis(Axis(1), 0).iter().all(|&v| v == 1.0));
        assert!(t.index_axis(Axis(1), 2).iter().all(|&v| v == -1.0));
        assert!(
            t.index_axis(Axis(1), 1)
                .iter()
                .all(|&v| (v - 0.003_921_6).abs() < 1e-5)
        );
        // A tall photo keeps its middle rows.
        let tall = RgbImage::from_pixel(4, 12, image::Rgb([9, 9, 9]));
        assert_eq!(
            crop_to_aspect(&tall, 4, 3).map(|c| c.dimensions()),
            Some((4, 3))
        );
        // Downscaling averages (antialiasing): a 2x2 checker becomes grey.
        let mut checker = RgbImage::new(8, 8);
        for (x, y, p) in checker.enumerate_pixels_mut() {
            let v = if (x + y) % 2 == 0 { 255 } else { 0 };
            *p = image::Rgb([v, v, v]);
        }
        let t = photo_tensor(&checker, 2, 2);
        assert!(t.iter().all(|v| v.abs() < 0.1), "{t:?}");
    }
}
