//! Style files (`*.scenebrush-style.json`): a named style to keep, export and import.
//!
//! ```json
//! {"scenebrush_style": 1, "name": "Evening", "seed": 42}
//! {"scenebrush_style": 1, "name": "street.jpg", "model": "camvid-spade", "z_dim": 256,
//!  "source": "street.jpg", "thumbnail_png": "iVBORw0KGgo...", "z": [0.12, -1.5, ...]}
//! ```
//! A seed style works with every model; a vector style only with the model `model` (same id and
//! z_dim). `thumbnail_png` (optional) is a small PNG of the source photo in base64: the file is
//! self-contained, so it can be moved or sent without the photo. Unknown fields are ignored.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::{Style, StyleError, StyleVector, THUMBNAIL_SIDE, base64};
use crate::io::atomic_write;
use crate::models::{MAX_Z_DIM, ModelMeta};

/// The version of the style file format this SceneBrush writes and reads.
pub const STYLE_FILE_FORMAT: u64 = 1;
/// The suggested end of a style file's name.
pub const STYLE_FILE_SUFFIX: &str = ".scenebrush-style.json";
/// A style file is a few kilobytes (a 65536-value z and a thumbnail stay well below this).
pub const MAX_STYLE_FILE_BYTES: u64 = 4 << 20;
/// Names longer than this are refused (a name is a label in a list).
const MAX_NAME_CHARS: usize = 200;

/// A style with a name: what the style strip keeps and a style file holds. Serializes as the
/// style file's JSON (so it can be stored with the app's settings as it is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawStyle", into = "RawStyle")]
pub struct SavedStyle {
    pub name: String,
    pub style: Style,
}

/// The file's JSON as written; [`SavedStyle`] is its checked form.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RawStyle {
    scenebrush_style: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    z_dim: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thumbnail_png: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    z: Option<Vec<f32>>,
}

impl From<SavedStyle> for RawStyle {
    fn from(saved: SavedStyle) -> RawStyle {
        let mut raw = RawStyle {
            scenebrush_style: Some(STYLE_FILE_FORMAT),
            name: Some(saved.name),
            ..RawStyle::default()
        };
        match saved.style {
            Style::Seed(seed) => raw.seed = Some(seed),
            Style::Vector(v) => {
                raw.model = Some(v.model_id);
                raw.z_dim = Some(v.z.len());
                raw.source = v.source;
                raw.thumbnail_png = v.thumbnail.as_ref().and_then(encode_thumbnail);
                raw.z = Some(v.z);
            }
        }
        raw
    }
}

impl TryFrom<RawStyle> for SavedStyle {
    type Error = String;

    fn try_from(raw: RawStyle) -> Result<SavedStyle, String> {
        match raw.scenebrush_style {
            None => {
                return Err(format!(
                    "it has no \"scenebrush_style\" field (a style file starts with \
                     {{\"scenebrush_style\": {STYLE_FILE_FORMAT}, ...}}); save the style from \
                     SceneBrush again"
                ));
            }
            Some(STYLE_FILE_FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "its format is {other}; this SceneBrush reads format {STYLE_FILE_FORMAT}"
                ));
            }
        }
        let style = match (raw.seed, raw.z) {
            (Some(_), Some(_)) => {
                return Err("it has both a \"seed\" and a \"z\"; keep one of them".into());
            }
            (None, None) => {
                return Err(
                    "it has neither a \"seed\" nor a \"z\": a style is one of the two".into(),
                );
            }
            (Some(seed), None) => Style::Seed(seed),
            (None, Some(z)) => {
                let model = raw
                    .model
                    .filter(|m| !m.trim().is_empty())
                    .ok_or("its \"z\" has no \"model\" (the id of the model it was made for)")?;
                if z.is_empty() || z.len() > MAX_Z_DIM {
                    return Err(format!(
                        "its \"z\" has {} values; a style has 1 to {MAX_Z_DIM}",
                        z.len()
                    ));
                }
                if raw.z_dim != Some(z.len()) {
                    return Err(format!(
                        "its \"z_dim\" is {} but \"z\" has {} values; the file is damaged: save \
                         the style again",
                        raw.z_dim
                            .map_or_else(|| "missing".to_string(), |d| d.to_string()),
                        z.len()
                    ));
                }
                if let Some(i) = z.iter().position(|v| !v.is_finite()) {
                    return Err(format!(
                        "value {i} of its \"z\" is not a finite 32-bit number; the file is \
                         damaged: save the style again"
                    ));
                }
                let thumbnail = raw.thumbnail_png.as_deref().and_then(|t| {
                    decode_thumbnail(t)
                        .map_err(|e| tracing::warn!("style for {model}: thumbnail left out: {e}"))
                        .ok()
                });
                Style::Vector(StyleVector {
                    z,
                    model_id: model,
                    source: raw.source.filter(|s| !s.is_empty()),
                    thumbnail,
                })
            }
        };
        let name = raw
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| style.describe());
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!(
                "its name has {} characters; at most {MAX_NAME_CHARS}",
                name.chars().count()
            ));
        }
        Ok(SavedStyle { name, style })
    }
}

fn encode_thumbnail(img: &RgbImage) -> Option<String> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| tracing::warn!("style thumbnail not saved: {e}"))
        .ok()?;
    Some(base64::encode(&png))
}

fn decode_thumbnail(text: &str) -> Result<RgbImage, String> {
    let bytes = base64::decode(text).ok_or("not base64")?;
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    let side = 4 * THUMBNAIL_SIDE;
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    reader.limits(limits);
    Ok(reader.decode().map_err(|e| e.to_string())?.to_rgb8())
}

impl SavedStyle {
    pub fn new(name: impl Into<String>, style: Style) -> SavedStyle {
        SavedStyle {
            name: name.into(),
            style,
        }
    }

    /// The style file's text (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a style serializes to JSON") + "\n"
    }

    /// Reads a style file's text; `path` is for messages.
    pub fn from_json(text: &str, path: &Path) -> Result<SavedStyle, StyleError> {
        let invalid = |reason: String| StyleError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            invalid(format!(
                "it is not valid JSON ({e}); give a style file saved by SceneBrush"
            ))
        })?;
        if let Some(format) = value
            .get("scenebrush_style")
            .and_then(serde_json::Value::as_u64)
            .filter(|&f| f > STYLE_FILE_FORMAT)
        {
            return Err(StyleError::Newer {
                path: path.to_path_buf(),
                format,
            });
        }
        if !value.is_object() {
            return Err(invalid(
                "it is JSON but not an object; give a style file saved by SceneBrush".into(),
            ));
        }
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }

    /// Reads a style file (any model's).
    pub fn load(path: &Path) -> Result<SavedStyle, StyleError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StyleError::Missing(path.to_path_buf()));
            }
            Err(e) => {
                return Err(StyleError::Read {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        if meta.is_dir() {
            return Err(StyleError::Folder(path.to_path_buf()));
        }
        if meta.len() > MAX_STYLE_FILE_BYTES {
            return Err(StyleError::TooBig {
                path: path.to_path_buf(),
                size: meta.len(),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| StyleError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| StyleError::Invalid {
            path: path.to_path_buf(),
            reason: "it is not UTF-8 text (a style file is JSON)".into(),
        })?;
        SavedStyle::from_json(&text, path)
    }

    /// Reads a style file for the model: a vector style made for another model (another id or
    /// z_dim) is an error naming the file and both models.
    pub fn load_for(path: &Path, meta: &ModelMeta) -> Result<SavedStyle, StyleError> {
        let saved = SavedStyle::load(path)?;
        saved.check_for(meta, Some(path))?;
        Ok(saved)
    }

    /// Whether the style fits the model, naming `file` (where it came from) when it does not.
    pub fn check_for(&self, meta: &ModelMeta, file: Option<&Path>) -> Result<(), StyleError> {
        self.style.check_for(meta).map_err(|e| match e {
            StyleError::WrongModel {
                style_model,
                style_z_dim,
                model,
                z_dim,
                ..
            } => StyleError::WrongModel {
                file: file.map(Path::to_path_buf),
                style_model,
                style_z_dim,
                model,
                z_dim,
            },
            other => other,
        })
    }

    /// Writes the style file atomically (complete or not at all); an existing file is only
    /// replaced with `overwrite`.
    pub fn save(&self, path: &Path, overwrite: bool) -> Result<(), StyleError> {
        let text = self.to_json();
        atomic_write(path, overwrite, |w| w.write_all(text.as_bytes()))?;
        Ok(())
    }

    /// A file name for the style: its name with characters that are unsafe in file names
    /// replaced, and [`STYLE_FILE_SUFFIX`].
    pub fn file_name(&self) -> String {
        let stem: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let stem = stem.trim_matches(|c: char| c == '.' || c.is_whitespace());
        let stem = if stem.is_empty() { "style" } else { stem };
        format!("{stem}{STYLE_FILE_SUFFIX}")
    }
}

/// Whether `path` names a style file rather than a photo: its name ends in `.json`, or its
/// first non-blank byte is `{` (photos never start so).
pub fn is_style_file(path: &Path) -> bool {
    let json_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json_name {
        return true;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(64);
    let _ = std::io::Read::read_to_end(&mut std::io::Read::take(file, 64), &mut head);
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn meta(id: &str, z_dim: usize) -> ModelMeta {
        let json = format!(
            r#"{{"format": 1, "id": "{id}", "name": "n", "kind": "generator",
                "architecture": "spade", "height": 32, "width": 32, "z_dim": {z_dim},
                "classes": [{{"id": 0, "name": "a", "color": [0, 0, 0]}}]}}"#
        );
        ModelMeta::from_json(&json).expect("valid meta")
    }

    fn photo_style() -> SavedStyle {
        let thumb = RgbImage::from_fn(24, 18, |x, y| image::Rgb([x as u8 * 10, y as u8 * 12, 77]));
        SavedStyle::new(
            "Evening street",
            Style::Vector(StyleVector {
                z: vec![0.1, -2.5, 1e-7, 3.25],
                model_id: "camvid-spade".into(),
                source: Some("street.jpg".into()),
                thumbnail: Some(thumb),
            }),
        )
    }

    #[test]
    fn styles_round_trip_through_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for saved in [
            photo_style(),
            SavedStyle::new("Seed", Style::Seed(u64::MAX)),
        ] {
            let path = tmp.path().join(saved.file_name());
            saved.save(&path, false).expect("saved");
            let back = SavedStyle::load(&path).expect("loaded");
            assert_eq!(back, saved);
            assert!(is_style_file(&path));
            // Not replaced without overwrite; the file stays as it was.
            let before = std::fs::read(&path).expect("read");
            let err = SavedStyle::new("x", Style::Seed(1))
                .save(&path, false)
                .expect_err("exists");
            assert!(err.to_string().contains("already exists"), "{err}");
            assert_eq!(std::fs::read(&path).expect("read"), before);
        }
        let text = photo_style().to_json();
        for key in [
            "\"scenebrush_style\": 1",
            "\"model\": \"camvid-spade\"",
            "\"z_dim\": 4",
            "\"thumbnail_png\": \"iVBOR",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
        assert_eq!(
            photo_style().file_name(),
            "Evening street.scenebrush-style.json"
        );
        assert_eq!(
            SavedStyle::new("a/b:c", Style::Seed(0)).file_name(),
            "a_b_c.scenebrush-style.json"
        );
        assert_eq!(
            SavedStyle::new("..", Style::Seed(0)).file_name(),
            "style.scenebrush-style.json"
        );
    }

    #[test]
    fn another_models_style_file_is_refused_naming_both() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("evening.scenebrush-style.json");
        photo_style().save(&path, false).expect("saved");
        SavedStyle::load_for(&path, &meta("camvid-spade", 4)).expect("its own model");
        for other in [meta("camvid-ccfpse", 4), meta("camvid-spade", 256)] {
            let err = SavedStyle::load_for(&path, &other).expect_err("other model");
            let text = err.to_string();
            assert!(
                text.contains("evening.scenebrush-style.json")
                    && text.contains("camvid-spade (z_dim 4)")
                    && text.contains(&format!("{} (z_dim {})", other.id, other.z_dim)),
                "{text}"
            );
        }
        let seed = tmp.path().join("seed.json");
        SavedStyle::new("s", Style::Seed(3))
            .save(&seed, false)
            .expect("saved");
        SavedStyle::load_for(&seed, &meta("anything", 0)).expect("a seed fits every model");
    }

    #[test]
    fn broken_style_files_are_explained() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("notjson.json", b"{ nope".to_vec(), "not valid JSON"),
            ("array.json", b"[1, 2]".to_vec(), "not an object"),
            (
                "model.json",
                br#"{"format": 1, "id": "x"}"#.to_vec(),
                "no \"scenebrush_style\"",
            ),
            (
                "newer.json",
                br#"{"scenebrush_style": 9, "seed": 1}"#.to_vec(),
                "update SceneBrush",
            ),
            (
                "both.json",
                br#"{"scenebrush_style": 1, "seed": 1, "z": [1.0], "z_dim": 1, "model": "m"}"#
                    .to_vec(),
                "both",
            ),
            (
                "none.json",
                br#"{"scenebrush_style": 1, "name": "x"}"#.to_vec(),
                "neither",
            ),
            (
                "nomodel.json",
                br#"{"scenebrush_style": 1, "z": [1.0], "z_dim": 1}"#.to_vec(),
                "no \"model\"",
            ),
            (
                "dim.json",
                br#"{"scenebrush_style": 1, "z": [1.0, 2.0], "z_dim": 3, "model": "m"}"#.to_vec(),
                "\"z_dim\" is 3 but \"z\" has 2",
            ),
            (
                "empty.json",
                br#"{"scenebrush_style": 1, "z": [], "z_dim": 0, "model": "m"}"#.to_vec(),
                "has 0 values",
            ),
            (
                "inf.json",
                br#"{"scenebrush_style": 1, "z": [1e39], "z_dim": 1, "model": "m"}"#.to_vec(),
                "not a finite",
            ),
            ("latin1.json", vec![b'{', 0xe9, b'}'], "not UTF-8"),
        ];
        for (name, bytes, want) in cases {
            let path = tmp.path().join(name);
            std::fs::write(&path, &bytes).expect("write");
            let err = SavedStyle::load(&path).expect_err(name);
            let text = err.to_string();
            assert!(text.contains(name) && text.contains(want), "{name}: {text}");
        }
        let err = SavedStyle::load(&tmp.path().join("missing.json")).expect_err("missing");
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = SavedStyle::load(tmp.path()).expect_err("folder");
        assert!(err.to_string().contains("is a folder"), "{err}");
        let big = tmp.path().join("big.json");
        std::fs::write(&big, vec![b' '; (MAX_STYLE_FILE_BYTES + 1) as usize]).expect("write");
        let err = SavedStyle::load(&big).expect_err("big");
        assert!(
            err.to_string().contains("a style file is a few kilobytes"),
            "{err}"
        );
    }

    #[test]
    fn a_broken_thumbnail_is_left_out_and_the_style_kept() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.json");
        std::fs::write(
            &path,
            br#"{"scenebrush_style": 1, "z": [0.5], "z_dim": 1, "model": "m", "thumbnail_png": "Zm9v", "extra": true}"#,
        )
        .expect("write");
        let saved = SavedStyle::load(&path).expect("kept");
        let Style::Vector(v) = &saved.style else {
            panic!("a vector style: {saved:?}")
        };
        assert_eq!(
            (v.z.as_slice(), v.thumbnail.as_ref()),
            (&[0.5f32][..], None)
        );
        assert_eq!(saved.name, "saved style for m");
    }

    #[test]
    fn photos_are_not_style_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let photo = tmp.path().join("p.png");
        image::RgbImage::new(4, 4).save(&photo).expect("png");
        assert!(!is_style_file(&photo));
        let renamed = tmp.path().join("style-without-extension");
        std::fs::write(&renamed, "\n  {\"scenebrush_style\": 1, \"seed\": 2}").expect("write");
        assert!(is_style_file(&renamed));
        assert!(!is_style_file(&tmp.path().join("missing.png")));
        assert!(is_style_file(&tmp.path().join("missing.JSON")));
    }

    proptest! {
        #[test]
        fn every_z_value_survives_the_file_bit_for_bit(
            z in proptest::collection::vec(any::<f32>().prop_filter("finite", |v| v.is_finite()), 1..64)
        ) {
            let saved = SavedStyle::new("p", Style::Vector(StyleVector {
                z: z.clone(), model_id: "m".into(), source: None, thumbnail: None,
            }));
            let back = SavedStyle::from_json(&saved.to_json(), Path::new("p.json"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let Style::Vector(v) = back.style else {
                return Err(TestCaseError::fail("not a vector"));
            };
            let bits = |z: &[f32]| z.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&v.z), bits(&z));
        }
    }
}
