//! A generator package's optional int8 variant (`variants.int8` in model.json: a quantized copy of
//! model.onnx with the same inputs and outputs), and which graph the user wants run.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which graph of a generator package to run: a setting of the app and `--precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// The int8 variant when the package has a usable one (faster on CPUs), else model.onnx.
    #[default]
    Auto,
    /// Always model.onnx, the float graph.
    Float,
}

impl Precision {
    pub const ALL: [Precision; 2] = [Precision::Auto, Precision::Float];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Float => "float",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Precision::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown precision {s:?}; use auto (the int8 variant when a package has one) \
                     or float"
                )
            })
    }
}

/// The graph a generator session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphUsed {
    /// model.onnx: the package has no int8 variant, or float was asked for.
    Float,
    /// The package's int8 variant.
    Int8,
    /// model.onnx, although the int8 variant was wanted: why it is not used (names the file).
    FloatInstead { reason: String },
}

impl GraphUsed {
    /// "float" or "int8".
    pub fn label(&self) -> &'static str {
        match self {
            GraphUsed::Int8 => "int8",
            GraphUsed::Float | GraphUsed::FloatInstead { .. } => "float",
        }
    }

    pub fn is_int8(&self) -> bool {
        *self == GraphUsed::Int8
    }

    /// Why the int8 variant was wanted but not used.
    pub fn note(&self) -> Option<&str> {
        match self {
            GraphUsed::FloatInstead { reason } => Some(reason),
            _ => None,
        }
    }
}

/// What a package says about its int8 variant, and whether it can be used as far as known.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Int8Variant {
    /// model.json lists no int8 variant.
    #[default]
    Absent,
    /// `variants.int8.file` names a file of the package that is there (its graph is checked
    /// when it is opened, as model.onnx's). `details`: the record in model.json, shown as is.
    Listed {
        path: PathBuf,
        details: serde_json::Value,
    },
    /// Listed but unusable: why, naming the file. The float graph runs instead.
    Unusable { reason: String },
}

impl Int8Variant {
    /// The int8 graph's file, when listed and there.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Int8Variant::Listed { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Why a listed variant cannot be used.
    pub fn problem(&self) -> Option<&str> {
        match self {
            Int8Variant::Unusable { reason } => Some(reason),
            _ => None,
        }
    }

    /// Reads `variants.int8` of a package in `dir` (its model.json is `json`, for messages).
    /// Nothing here makes the package unusable: a problem is kept as the reason.
    pub fn read(variants: Option<&serde_json::Value>, dir: &Path, json: &Path) -> Int8Variant {
        let Some(record) = variants.and_then(|v| v.get("int8")) else {
            return Int8Variant::Absent;
        };
        if record.is_null() {
            return Int8Variant::Absent;
        }
        let unusable = |why: String| Int8Variant::Unusable {
            reason: format!(
                "the int8 variant in {} {why}; model.onnx (float) runs instead",
                json.display()
            ),
        };
        let Some(file) = record.get("file") else {
            return unusable("has no \"file\"".into());
        };
        let Some(file) = file.as_str() else {
            return unusable(format!("has \"file\": {file}, not a file name"));
        };
        if let Err(why) = plain_file_name(file) {
            return unusable(format!("has \"file\": {file:?}, {why}"));
        }
        let path = dir.join(file);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Int8Variant::Listed {
                path,
                details: record.clone(),
            },
            Ok(_) => Int8Variant::Unusable {
                reason: format!(
                    "{} (the int8 variant) is not a file; model.onnx (float) runs instead",
                    path.display()
                ),
            },
            Err(e) => Int8Variant::Unusable {
                reason: format!(
                    "{} (the int8 variant) cannot be read ({e}); model.onnx (float) runs \
                     instead: quantize the package again or remove \"variants\" from model.json",
                    path.display()
                ),
            },
        }
    }
}

/// A file name inside the package folder: not empty, no folder part, not `.` or `..`.
fn plain_file_name(file: &str) -> Result<(), &'static str> {
    if file.is_empty() {
        return Err("which is empty");
    }
    if file.contains(['/', '\\']) || Path::new(file).is_absolute() {
        return Err("which is a path: it must be a file name in the package's folder");
    }
    match Path::new(file).components().collect::<Vec<_>>().as_slice() {
        [Component::Normal(_)] => Ok(()),
        _ => Err("which is not a file name in the package's folder"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(record: serde_json::Value, dir: &Path) -> Int8Variant {
        let variants = serde_json::json!({ "int8": record });
        Int8Variant::read(Some(&variants), dir, &dir.join("model.json"))
    }

    #[test]
    fn precision_names_round_trip() {
        for p in Precision::ALL {
            assert_eq!(p.as_str().parse::<Precision>(), Ok(p));
        }
        assert_eq!(" Float ".parse::<Precision>(), Ok(Precision::Float));
        let err = "int4".parse::<Precision>().expect_err("unknown");
        assert!(err.contains("auto") && err.contains("float"), "{err}");
        assert_eq!(Precision::default(), Precision::Auto);
    }

    #[test]
    fn a_listed_file_in_the_folder_is_used_and_anything_else_is_a_note() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        std::fs::write(dir.join("model-int8.onnx"), b"x").expect("write");
        std::fs::create_dir(dir.join("folder.onnx")).expect("mkdir");
        let ok = read(
            serde_json::json!({"file": "model-int8.onnx", "method": "m"}),
            dir,
        );
        assert_eq!(ok.path(), Some(dir.join("model-int8.onnx").as_path()));
        assert!(Int8Variant::read(None, dir, dir).path().is_none());
        let absent = Int8Variant::read(Some(&serde_json::json!({"fp16": {}})), dir, dir);
        assert_eq!(absent, Int8Variant::Absent);
        let cases = [
            (
                serde_json::json!({"file": "../model-int8.onnx"}),
                "is a path",
            ),
            (
                serde_json::json!({"file": "sub/model-int8.onnx"}),
                "is a path",
            ),
            (
                serde_json::json!({"file": "sub\\model-int8.onnx"}),
                "is a path",
            ),
            (serde_json::json!({"file": "/etc/passwd"}), "is a path"),
            (serde_json::json!({"file": ".."}), "not a file name"),
            (serde_json::json!({"file": ""}), "empty"),
            (serde_json::json!({"file": 3}), "not a file name"),
            (serde_json::json!({"method": "m"}), "has no \"file\""),
            (
                serde_json::json!({"file": "gone.onnx"}),
                "gone.onnx (the int8 variant) cannot be read",
            ),
            (serde_json::json!({"file": "folder.onnx"}), "is not a file"),
        ];
        for (record, want) in cases {
            let v = read(record.clone(), dir);
            let reason = v.problem().unwrap_or_else(|| panic!("{record}: {v:?}"));
            assert!(reason.contains(want), "{record}: {reason}");
            assert!(reason.contains("float"), "{reason}");
        }
    }
}
