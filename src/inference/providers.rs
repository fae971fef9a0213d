//! Execution providers chosen at run time, with a report of what was used and why.

use std::fmt;
use std::str::FromStr;

use ort::ep::{self, ExecutionProvider};
use ort::session::builder::SessionBuilder;
use serde::{Deserialize, Serialize};

/// Which execution provider the user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ProviderPreference {
    /// The fastest one this machine and library offer: CUDA, DirectML (Windows), CoreML
    /// (macOS), else CPU. TensorRT only when asked for: its first engine build takes minutes.
    #[default]
    Auto,
    Cpu,
    Cuda,
    TensorRt,
    DirectMl,
    CoreMl,
}

impl ProviderPreference {
    pub const ALL: [ProviderPreference; 6] = [
        ProviderPreference::Auto,
        ProviderPreference::Cpu,
        ProviderPreference::Cuda,
        ProviderPreference::TensorRt,
        ProviderPreference::DirectMl,
        ProviderPreference::CoreMl,
    ];

    /// The name used on the command line and in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderPreference::Auto => "auto",
            ProviderPreference::Cpu => "cpu",
            ProviderPreference::Cuda => "cuda",
            ProviderPreference::TensorRt => "tensorrt",
            ProviderPreference::DirectMl => "directml",
            ProviderPreference::CoreMl => "coreml",
        }
    }

    /// Accelerators to try, in order; CPU is always the fallback.
    fn candidates(self) -> &'static [Accelerator] {
        match self {
            ProviderPreference::Auto => &[
                Accelerator::Cuda,
                Accelerator::DirectMl,
                Accelerator::CoreMl,
            ],
            ProviderPreference::Cpu => &[],
            ProviderPreference::Cuda => &[Accelerator::Cuda],
            ProviderPreference::TensorRt => &[Accelerator::TensorRt, Accelerator::Cuda],
            ProviderPreference::DirectMl => &[Accelerator::DirectMl],
            ProviderPreference::CoreMl => &[Accelerator::CoreMl],
        }
    }
}

impl fmt::Display for ProviderPreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderPreference {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        ProviderPreference::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown execution provider {s:?}; use one of {}",
                    ProviderPreference::ALL.map(|p| p.as_str()).join(", ")
                )
            })
    }
}

/// Which execution provider a session runs on, and why the preferred ones are not used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProviderReport {
    pub used: String,
    pub notes: Vec<String>,
}

impl fmt::Display for ProviderReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.used)?;
        if !self.notes.is_empty() {
            write!(f, " ({})", self.notes.join("; "))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accelerator {
    Cuda,
    TensorRt,
    DirectMl,
    CoreMl,
}

impl Accelerator {
    fn label(self) -> &'static str {
        match self {
            Accelerator::Cuda => "CUDA",
            Accelerator::TensorRt => "TensorRT",
            Accelerator::DirectMl => "DirectML",
            Accelerator::CoreMl => "CoreML",
        }
    }

    /// Why it cannot work on this OS at all, if so.
    fn platform_problem(self) -> Option<&'static str> {
        match self {
            Accelerator::DirectMl if !cfg!(windows) => Some("DirectML exists only on Windows"),
            Accelerator::CoreMl if !cfg!(target_vendor = "apple") => {
                Some("CoreML exists only on macOS")
            }
            _ => None,
        }
    }

    fn is_available(self) -> ort::Result<bool> {
        match self {
            Accelerator::Cuda => ep::CUDA::is_available(),
            Accelerator::TensorRt => ep::TensorRT::is_available(),
            Accelerator::DirectMl => ep::DirectML::is_available(),
            Accelerator::CoreMl => ep::CoreML::is_available(),
        }
    }

    fn register(self, builder: &mut SessionBuilder) -> ort::Result<()> {
        match self {
            Accelerator::Cuda => ep::CUDA::default().register(builder),
            Accelerator::TensorRt => ep::TensorRT::default()
                .with_engine_cache(true)
                .with_engine_cache_path(tensorrt_cache_dir())
                .register(builder),
            Accelerator::DirectMl => ep::DirectML::default().register(builder),
            Accelerator::CoreMl => ep::CoreML::default().register(builder),
        }
    }

    fn how_to_enable(self) -> &'static str {
        match self {
            Accelerator::Cuda | Accelerator::TensorRt => {
                "use the library of the onnxruntime-gpu wheel (see the README's GPU section)"
            }
            Accelerator::DirectMl => "use the onnxruntime-directml library",
            Accelerator::CoreMl => "use an ONNX Runtime build for macOS",
        }
    }
}

fn tensorrt_cache_dir() -> String {
    directories::ProjectDirs::from("", "", "SceneBrush")
        .map(|d| d.cache_dir().join("tensorrt"))
        .unwrap_or_else(|| std::env::temp_dir().join("scenebrush-tensorrt"))
        .display()
        .to_string()
}

/// Registers the accelerators `pref` asks for on `builder`; returns the one registered (if any)
/// and notes on the others. The caller falls back to CPU when the session then fails.
pub(crate) fn register_providers(
    builder: &mut SessionBuilder,
    pref: ProviderPreference,
) -> (Option<&'static str>, Vec<String>) {
    let mut notes = Vec::new();
    let explicit = pref != ProviderPreference::Auto;
    for &acc in pref.candidates() {
        if let Some(problem) = acc.platform_problem() {
            if explicit {
                notes.push(format!("{} not used: {problem}", acc.label()));
            }
            continue;
        }
        match acc.is_available() {
            Ok(true) => match acc.register(builder) {
                Ok(()) => return (Some(acc.label()), notes),
                Err(e) => notes.push(format!("{} could not be enabled: {e}", acc.label())),
            },
            Ok(false) => notes.push(format!(
                "{} not used: this ONNX Runtime library was built without it; to enable it, {}",
                acc.label(),
                acc.how_to_enable()
            )),
            Err(e) => notes.push(format!("{} not used: {e}", acc.label())),
        }
    }
    (None, notes)
}

/// The provider a session would most likely get, without creating one (for listings).
pub fn planned_provider(pref: ProviderPreference) -> String {
    pref.candidates()
        .iter()
        .find(|a| a.platform_problem().is_none() && a.is_available().unwrap_or(false))
        .map_or("CPU", |a| a.label())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_names() {
        for p in ProviderPreference::ALL {
            assert_eq!(p.as_str().parse::<ProviderPreference>(), Ok(p));
        }
        assert_eq!(
            "CUDA".parse::<ProviderPreference>(),
            Ok(ProviderPreference::Cuda)
        );
        let err = "gpu".parse::<ProviderPreference>().expect_err("unknown");
        assert!(
            err.contains("auto, cpu, cuda, tensorrt, directml, coreml"),
            "{err}"
        );
    }

    #[test]
    fn report_display() {
        let r = ProviderReport {
            used: "CPU".into(),
            notes: vec!["CUDA not used: x".into()],
        };
        assert_eq!(r.to_string(), "CPU (CUDA not used: x)");
    }
}
