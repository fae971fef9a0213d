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

/// Goes through the accelerators `pref` asks for, in order, and returns the first that `enable`
/// (availability check + registration) accepts, with a note for each one passed over: what it
/// is and why it is not used. Separate from ONNX Runtime so the reasons can be tested on a
/// machine without any accelerator.
fn choose_accelerator(
    pref: ProviderPreference,
    mut enable: impl FnMut(Accelerator) -> Result<(), Unusable>,
) -> (Option<Accelerator>, Vec<String>) {
    let mut notes = Vec::new();
    let explicit = pref != ProviderPreference::Auto;
    for &acc in pref.candidates() {
        if let Some(problem) = acc.platform_problem() {
            // Auto only tries what this OS could have; a request by name is answered.
            if explicit {
                notes.push(format!("{} not used: {problem}", acc.label()));
            }
            continue;
        }
        match enable(acc) {
            Ok(()) => return (Some(acc), notes),
            Err(Unusable::NotBuiltIn) => notes.push(format!(
                "{} not used: this ONNX Runtime library was built without it; to enable it, {}",
                acc.label(),
                acc.how_to_enable()
            )),
            Err(Unusable::CheckFailed(e)) => notes.push(format!("{} not used: {e}", acc.label())),
            Err(Unusable::RegisterFailed(e)) => {
                notes.push(format!("{} could not be enabled: {e}", acc.label()))
            }
        }
    }
    (None, notes)
}

/// Why an accelerator was passed over.
#[derive(Debug, Clone)]
enum Unusable {
    NotBuiltIn,
    CheckFailed(String),
    RegisterFailed(String),
}

/// Registers the accelerators `pref` asks for on `builder`; returns the one registered (if any)
/// and notes on the others. The caller falls back to CPU when the session then fails.
pub(crate) fn register_providers(
    builder: &mut SessionBuilder,
    pref: ProviderPreference,
) -> (Option<&'static str>, Vec<String>) {
    let (acc, notes) = choose_accelerator(pref, |acc| match acc.is_available() {
        Ok(true) => acc
            .register(builder)
            .map_err(|e| Unusable::RegisterFailed(e.to_string())),
        Ok(false) => Err(Unusable::NotBuiltIn),
        Err(e) => Err(Unusable::CheckFailed(e.to_string())),
    });
    (acc.map(Accelerator::label), notes)
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
    fn passed_over_accelerators_are_named_with_the_reason() {
        // A machine whose library has no accelerator at all (this one).
        let (acc, notes) =
            choose_accelerator(ProviderPreference::Cuda, |_| Err(Unusable::NotBuiltIn));
        assert_eq!(acc, None);
        assert_eq!(
            notes,
            [
                "CUDA not used: this ONNX Runtime library was built without it; to enable it, use \
              the library of the onnxruntime-gpu wheel (see the README's GPU section)"
            ]
        );
        // TensorRT falls back to CUDA before CPU: one reason for each.
        let (acc, notes) =
            choose_accelerator(ProviderPreference::TensorRt, |_| Err(Unusable::NotBuiltIn));
        assert_eq!(acc, None);
        assert!(
            notes[0]
                .starts_with("TensorRT not used: this ONNX Runtime library was built without it")
                && notes[1].starts_with("CUDA not used"),
            "{notes:?}"
        );
        // TensorRT present but failing to register: CUDA is used, the reason kept.
        let (acc, notes) = choose_accelerator(ProviderPreference::TensorRt, |a| match a {
            Accelerator::TensorRt => {
                Err(Unusable::RegisterFailed("libnvinfer.so.10 missing".into()))
            }
            _ => Ok(()),
        });
        assert_eq!(acc, Some(Accelerator::Cuda));
        assert_eq!(
            notes,
            ["TensorRT could not be enabled: libnvinfer.so.10 missing"]
        );
        // Another OS's accelerator, asked for by name: said so; with auto, not mentioned.
        if !cfg!(windows) {
            let (acc, notes) = choose_accelerator(ProviderPreference::DirectMl, |_| Ok(()));
            assert_eq!(acc, None);
            assert_eq!(
                notes,
                ["DirectML not used: DirectML exists only on Windows"]
            );
        }
        if !cfg!(target_vendor = "apple") {
            let (_, notes) = choose_accelerator(ProviderPreference::CoreMl, |_| Ok(()));
            assert_eq!(notes, ["CoreML not used: CoreML exists only on macOS"]);
            let (acc, notes) = choose_accelerator(ProviderPreference::Auto, |_| {
                Err(Unusable::CheckFailed("no driver".into()))
            });
            assert_eq!(acc, None);
            assert!(notes.iter().all(|n| !n.contains("CoreML")), "{notes:?}");
            assert!(
                notes.contains(&"CUDA not used: no driver".to_string()),
                "{notes:?}"
            );
        }
        assert_eq!(
            choose_accelerator(ProviderPreference::Cpu, |_| Ok(())),
            (None, Vec::<String>::new())
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
