//! `model.json`, format 1 (see docs/model-package.md).

use serde::{Deserialize, Serialize};

use crate::canvas::Palette;

use super::arch::{Architecture, Discriminator};

/// The model.json format this build reads.
pub const PACKAGE_FORMAT: u32 = 1;

/// The generators start from an sh x sw grid and double it 5 times.
pub const SIZE_MULTIPLE: u32 = 32;
/// The largest height or width accepted: the app holds label maps and images of this size, so a
/// typo such as 192000 must be refused here, not when memory runs out.
pub const MAX_SIDE: u32 = 8192;
/// The largest noise vector accepted (the shipped models use 256).
pub const MAX_Z_DIM: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassInfo {
    pub id: u8,
    pub name: String,
    pub color: [u8; 3],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Generator,
    Segmenter,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Generator => "generator",
            ModelKind::Segmenter => "segmenter",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub split: Option<String>,
    #[serde(default)]
    pub miou: Option<f64>,
    #[serde(default)]
    pub pixel_accuracy: Option<f64>,
    #[serde(default)]
    pub fid: Option<f64>,
}

/// The metadata of a model package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    pub format: u32,
    pub id: String,
    pub name: String,
    pub kind: ModelKind,
    pub architecture: String,
    #[serde(default)]
    pub discriminator: Option<String>,
    pub height: u32,
    pub width: u32,
    pub classes: Vec<ClassInfo>,
    #[serde(default)]
    pub dontcare: Option<u8>,
    #[serde(default)]
    pub z_dim: usize,
    #[serde(default)]
    pub training: Option<serde_json::Value>,
    #[serde(default)]
    pub metrics: Option<Metrics>,
    #[serde(default)]
    pub license: Option<String>,
    /// Other graphs of the same network (`{"int8": {"file": "model-int8.onnx", ...}}`): free-form
    /// JSON, read by [`super::Int8Variant::read`] and otherwise shown as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<serde_json::Value>,
}

impl ModelMeta {
    pub fn class(&self, id: u8) -> Option<&ClassInfo> {
        self.classes.get(id as usize).filter(|c| c.id == id)
    }

    /// Class colours indexed by id (classes are sorted by id once validated).
    pub fn palette(&self) -> Palette {
        Palette {
            colors: self.classes.iter().map(|c| c.color).collect(),
        }
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// A generator's architecture (`None` for a segmenter, whose architecture is free text).
    pub fn generator_arch(&self) -> Option<Architecture> {
        self.architecture.parse().ok()
    }

    /// What the generator was trained against, when the package says.
    pub fn discriminator_arch(&self) -> Option<Discriminator> {
        self.discriminator.as_deref().and_then(|d| d.parse().ok())
    }

    /// The architecture as people read it: "CC-FPSE", or a segmenter's own text.
    pub fn architecture_name(&self) -> &str {
        match self.generator_arch() {
            Some(a) => a.display_name(),
            None => &self.architecture,
        }
    }

    /// One caption line: architecture and discriminator ("SPADE · FPSE discriminator").
    pub fn architecture_line(&self) -> String {
        let discriminator = match (&self.discriminator, self.discriminator_arch()) {
            (_, Some(d)) => d.caption().to_string(),
            (Some(other), None) => format!("{other} discriminator"),
            (None, None) => "discriminator not stated".into(),
        };
        format!("{} · {discriminator}", self.architecture_name())
    }

    /// Parses and validates model.json text. The error is a sentence without the file name.
    pub fn from_json(text: &str) -> Result<ModelMeta, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "is not valid JSON: {e}; fix its syntax (docs/model-package.md shows a complete \
                 example)"
            )
        })?;
        let format = value
            .get("format")
            .ok_or("has no \"format\" field (expected \"format\": 1)")?;
        let format = format
            .as_u64()
            .ok_or_else(|| format!("has \"format\": {format}, expected a number such as 1"))?;
        if format != u64::from(PACKAGE_FORMAT) {
            return Err(if format > u64::from(PACKAGE_FORMAT) {
                format!(
                    "uses package format {format}, newer than this SceneBrush reads \
                     (format {PACKAGE_FORMAT}); update SceneBrush to use this model"
                )
            } else {
                format!(
                    "uses unknown package format {format} (this SceneBrush reads format {PACKAGE_FORMAT})"
                )
            });
        }
        const FIX: &str = "correct model.json (docs/model-package.md describes each field)";
        let mut meta: ModelMeta = serde_json::from_value(value)
            .map_err(|e| format!("does not match format 1: {e}; {FIX}"))?;
        meta.validate().map_err(|e| format!("{e}; {FIX}"))?;
        meta.classes.sort_by_key(|c| c.id);
        Ok(meta)
    }

    /// Checks the rules of format 1 that serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        let valid_id = !self.id.is_empty()
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid_id {
            return Err(format!(
                "has id {:?}; an id is non-empty and uses only letters, digits, '-', '_' and '.'",
                self.id
            ));
        }
        if self.name.trim().is_empty() {
            return Err("has an empty \"name\"".into());
        }
        for (what, v) in [("height", self.height), ("width", self.width)] {
            if v > MAX_SIDE {
                return Err(format!(
                    "has {what} {v}; at most {MAX_SIDE} is supported (is it a typo?)"
                ));
            }
        }
        if self.z_dim > MAX_Z_DIM {
            return Err(format!(
                "has z_dim {}; at most {MAX_Z_DIM} is supported (is it a typo?)",
                self.z_dim
            ));
        }
        match self.kind {
            ModelKind::Generator => {
                if self.architecture.parse::<Architecture>().is_err() {
                    return Err(format!(
                        "has architecture {:?}; a generator's architecture is one of {}",
                        self.architecture,
                        Architecture::names()
                    ));
                }
                if let Some(d) = &self.discriminator
                    && d.parse::<Discriminator>().is_err()
                {
                    return Err(format!(
                        "has discriminator {d:?}; expected one of {} or null",
                        Discriminator::names()
                    ));
                }
                for (what, v) in [("height", self.height), ("width", self.width)] {
                    if v == 0 || v % SIZE_MULTIPLE != 0 {
                        return Err(format!(
                            "has {what} {v}; a generator's height and width are positive multiples of {SIZE_MULTIPLE}"
                        ));
                    }
                }
            }
            ModelKind::Segmenter => {
                if self.architecture.trim().is_empty() {
                    return Err("has an empty \"architecture\"".into());
                }
                if self.height == 0 || self.width == 0 {
                    return Err("has a zero height or width".into());
                }
                if self.z_dim != 0 {
                    return Err(format!("is a segmenter with z_dim {}; use 0", self.z_dim));
                }
            }
        }
        validate_classes(&self.classes, self.dontcare)
    }
}

/// Checks a class list: 1 to 256 classes with ids 0..n-1 without gaps, names, distinct colours,
/// and a don't-care id among them. The error is a sentence without the file name.
pub fn validate_classes(classes: &[ClassInfo], dontcare: Option<u8>) -> Result<(), String> {
    let n = classes.len();
    if n == 0 || n > 256 {
        return Err(format!("lists {n} classes; expected 1 to 256"));
    }
    let mut seen = vec![false; n];
    for c in classes {
        let slot = seen.get_mut(c.id as usize).ok_or_else(|| {
            format!(
                "has class id {} ({:?}) but only {n} classes: ids must be 0..{} without gaps",
                c.id,
                c.name,
                n - 1
            )
        })?;
        if *slot {
            return Err(format!("lists class id {} twice", c.id));
        }
        *slot = true;
        if c.name.trim().is_empty() {
            return Err(format!("has class {} without a name", c.id));
        }
    }
    let mut colors: Vec<([u8; 3], u8)> = classes.iter().map(|c| (c.color, c.id)).collect();
    colors.sort();
    if let Some(w) = colors.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "gives classes {} and {} the same colour {:?}; colours must be distinct so \
             colour-coded label maps can be read",
            w[0].1, w[1].1, w[0].0
        ));
    }
    if let Some(d) = dontcare
        && d as usize >= n
    {
        return Err(format!(
            "has dontcare {d}, which is not one of its class ids 0..{}",
            n - 1
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn camvid_json(extra: &str) -> String {
        let classes: Vec<String> = crate::models::camvid()
            .classes
            .iter()
            .map(|c| serde_json::to_string(c).expect("a class serialises"))
            .collect();
        format!(
            r#"{{"format": 1, "id": "t", "name": "Test", "kind": "generator", "architecture": "spade",
               "discriminator": "fpse", "height": 192, "width": 256, "classes": [{}],
               "dontcare": 11, "z_dim": 8 {extra}}}"#,
            classes.join(",")
        )
    }

    fn edit(f: impl FnOnce(&mut serde_json::Value)) -> Result<ModelMeta, String> {
        let mut v: serde_json::Value =
            serde_json::from_str(&camvid_json("")).map_err(|e| e.to_string())?;
        f(&mut v);
        ModelMeta::from_json(&v.to_string())
    }

    #[test]
    fn parses_contract_example() {
        let m = ModelMeta::from_json(&camvid_json(
            r#", "metrics": {"split": "val", "miou": 0.5, "pixel_accuracy": null}, "license": "x",
               "training": {"epochs": 2}, "future_field": true"#,
        ))
        .expect("valid metadata");
        assert_eq!(m.kind, ModelKind::Generator);
        assert_eq!(m.num_classes(), 12);
        assert_eq!(m.class(3).map(|c| c.name.as_str()), Some("Road"));
        assert_eq!(m.palette().colors[4], [60, 40, 222]);
        assert_eq!(m.metrics.as_ref().and_then(|x| x.miou), Some(0.5));
        assert_eq!(m.dontcare, Some(11));
    }

    #[test]
    fn classes_in_any_order_are_sorted() {
        let m = edit(|v| {
            if let Some(c) = v["classes"].as_array_mut() {
                c.reverse();
            }
        })
        .expect("valid");
        assert_eq!(m.classes[0].id, 0);
        assert_eq!(m.class(11).map(|c| c.name.as_str()), Some("Unlabelled"));
    }

    #[test]
    fn rejects_bad_metadata_with_reasons() {
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|v| v["format"] = 2.into()),
                "newer than this SceneBrush",
            ),
            (
                Box::new(|v| v["format"] = "one".into()),
                "expected a number",
            ),
            (
                Box::new(|v| {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("format");
                    }
                }),
                "no \"format\"",
            ),
            (
                Box::new(|v| v["kind"] = "painter".into()),
                "unknown variant",
            ),
            (
                Box::new(|v| v["architecture"] = "unet".into()),
                "architecture \"unet\"",
            ),
            (
                Box::new(|v| v["discriminator"] = "gan".into()),
                "discriminator \"gan\"",
            ),
            (Box::new(|v| v["height"] = 200.into()), "height 200"),
            (Box::new(|v| v["width"] = 0.into()), "width 0"),
            (Box::new(|v| v["width"] = 1_048_576.into()), "at most 8192"),
            (
                Box::new(|v| v["z_dim"] = (1u64 << 40).into()),
                "z_dim 1099511627776",
            ),
            (Box::new(|v| v["dontcare"] = 12.into()), "dontcare 12"),
            (Box::new(|v| v["id"] = "a b".into()), "id \"a b\""),
            (
                Box::new(|v| v["classes"][5]["id"] = 20.into()),
                "without gaps",
            ),
            (Box::new(|v| v["classes"][5]["id"] = 4.into()), "twice"),
            (
                Box::new(|v| v["classes"][2]["color"] = serde_json::json!([128, 0, 0])),
                "same colour",
            ),
            (
                Box::new(|v| v["classes"] = serde_json::json!([])),
                "0 classes",
            ),
            (
                Box::new(|v| v["height"] = "tall".into()),
                "does not match format 1",
            ),
        ];
        for (f, want) in cases {
            let err = edit(f).expect_err(want);
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
        let err = ModelMeta::from_json("{ not json").expect_err("bad json");
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn null_discriminator_and_segmenter() {
        edit(|v| v["discriminator"] = serde_json::Value::Null)
            .expect("null discriminator is allowed");
        let seg = edit(|v| {
            v["kind"] = "segmenter".into();
            v["architecture"] = "fcn-resnet18".into();
            v["z_dim"] = 0.into();
            v["height"] = 360.into();
        })
        .expect("segmenter");
        assert_eq!(seg.kind, ModelKind::Segmenter);
        let err = edit(|v| v["kind"] = "segmenter".into()).expect_err("segmenter with z");
        assert!(err.contains("z_dim"));
    }
}
