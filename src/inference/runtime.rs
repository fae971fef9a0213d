//! Finding and loading the ONNX Runtime shared library (`ort` is built with `load-dynamic`).

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

/// Environment variable naming the ONNX Runtime library file (the same one `ort` reads).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// Oldest ONNX Runtime the `api-24` build of `ort` accepts.
pub const MIN_ORT_MINOR: u32 = 24;

/// The loaded ONNX Runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    pub library_path: PathBuf,
    pub version: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "the ONNX Runtime library ({lib}) was not found; looked in: {searched}. \
         Run scripts/setup.sh in the SceneBrush folder to put it in runtime/, or set \
         {ORT_DYLIB_ENV} to the path of an ONNX Runtime 1.{MIN_ORT_MINOR}+ library \
         (for example .venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1 \
         from `pip install onnxruntime`)",
        lib = library_file_name(),
        searched = .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotFound { searched: Vec<PathBuf> },
    #[error(
        "{ORT_DYLIB_ENV} is set to {}, which does not exist; point it at an ONNX Runtime library \
         file or unset it", .0.display()
    )]
    EnvPathMissing(PathBuf),
    #[error(
        "cannot load the ONNX Runtime library {}: {message}. Run scripts/setup.sh to put a \
         working copy in runtime/, or set {ORT_DYLIB_ENV} to another one", .path.display()
    )]
    Load { path: PathBuf, message: String },
    #[error(
        "{} is ONNX Runtime {version}, but SceneBrush needs 1.{MIN_ORT_MINOR} or newer \
         (1.31 recommended); run scripts/setup.sh or set {ORT_DYLIB_ENV} to a newer library",
        .path.display()
    )]
    TooOld { path: PathBuf, version: String },
}

/// `libonnxruntime.so`, `libonnxruntime.dylib` or `onnxruntime.dll`.
pub fn library_file_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// An ONNX Runtime library file in `dir`: the plain name, else the newest versioned one
/// (`libonnxruntime.so.1.31.1`). Provider plug-ins (`libonnxruntime_providers_*`) are not it.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let plain = dir.join(library_file_name());
    if plain.is_file() {
        return Some(plain);
    }
    let prefix = format!("{}onnxruntime", std::env::consts::DLL_PREFIX);
    let suffix = std::env::consts::DLL_SUFFIX;
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    // libonnxruntime.so.1.31.1 (Linux) or libonnxruntime.1.31.1.dylib (macOS)
                    n.strip_prefix(&prefix).is_some_and(|rest| {
                        (rest.starts_with(suffix) || rest.starts_with('.')) && rest.contains(suffix)
                    })
                })
        })
        .collect();
    found.sort();
    found.pop()
}

/// Where the library is looked for, in order (after `$ORT_DYLIB_PATH`): beside the executable,
/// `runtime/` of the project, the onnxruntime wheel in the project's `.venv`.
pub fn library_search_dirs() -> Vec<PathBuf> {
    let roots = crate::paths::app_roots();
    let mut dirs = Vec::new();
    if let Some(exe_dir) = roots.first() {
        dirs.push(exe_dir.clone());
    }
    for r in &roots {
        dirs.push(r.join("runtime"));
    }
    for r in &roots {
        let lib = r.join(".venv").join("lib");
        let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("python3"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        pythons.sort();
        for py in pythons.into_iter().rev() {
            dirs.push(py.join("site-packages/onnxruntime/capi"));
        }
        // Windows venvs
        dirs.push(r.join(".venv/Lib/site-packages/onnxruntime/capi"));
    }
    crate::paths::dedup_paths(dirs)
}

/// Finds the library without loading it.
pub fn find_library() -> Result<PathBuf, RuntimeError> {
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else if p.is_dir() {
            library_in(&p).ok_or(RuntimeError::EnvPathMissing(p))
        } else {
            Err(RuntimeError::EnvPathMissing(p))
        };
    }
    let dirs = library_search_dirs();
    dirs.iter()
        .find_map(|d| library_in(d))
        .ok_or(RuntimeError::NotFound { searched: dirs })
}

/// Reads the version of an ONNX Runtime library through its C entry point.
fn library_version(path: &Path) -> Result<String, RuntimeError> {
    let load_err = |message: String| RuntimeError::Load {
        path: path.to_path_buf(),
        message,
    };
    // SAFETY: loading ONNX Runtime runs no untrusted initialisers beyond the library's own; the
    // symbol has the documented C signature `const OrtApiBase* OrtGetApiBase(void)` and the
    // version string is a static, NUL-terminated buffer owned by the library.
    unsafe {
        let lib = libloading::Library::new(path).map_err(|e| load_err(e.to_string()))?;
        let get_base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            lib.get(b"OrtGetApiBase")
                .map_err(|_| load_err("it does not export OrtGetApiBase".into()))?;
        let base = get_base();
        if base.is_null() {
            return Err(load_err("OrtGetApiBase returned null".into()));
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return Err(load_err("it reports no version".into()));
        }
        Ok(CStr::from_ptr(version).to_string_lossy().into_owned())
    }
}

struct Loaded {
    info: RuntimeInfo,
    env: Environment,
}

static RUNTIME: OnceLock<Loaded> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime once per process (later calls return the same library). Search order:
/// `$ORT_DYLIB_PATH`, beside the executable, `<project>/runtime/`, `<project>/.venv`'s
/// onnxruntime wheel. A failure is not remembered, so a later call can succeed.
pub fn init_runtime() -> Result<RuntimeInfo, RuntimeError> {
    if let Some(l) = RUNTIME.get() {
        return Ok(l.info.clone());
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(l) = RUNTIME.get() {
        return Ok(l.info.clone());
    }
    let path = find_library()?;
    let path = path.canonicalize().unwrap_or(path);
    let version = library_version(&path)?;
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if minor < MIN_ORT_MINOR {
        return Err(RuntimeError::TooOld { path, version });
    }
    let load_err = |message: String| RuntimeError::Load {
        path: path.clone(),
        message,
    };
    let env = ort::init_from(&path)
        .map_err(|e| load_err(e.to_string()))?
        .with_name("scenebrush")
        .with_telemetry(false)
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    tracing::info!("ONNX Runtime {version} loaded from {}", path.display());
    let info = RuntimeInfo {
        library_path: path,
        version,
    };
    let loaded = RUNTIME.get_or_init(|| Loaded {
        info: info.clone(),
        env,
    });
    Ok(loaded.info.clone())
}

/// The process-wide ONNX Runtime environment, loading the runtime if needed.
pub(crate) fn environment() -> Result<&'static Environment, RuntimeError> {
    init_runtime()?;
    match RUNTIME.get() {
        Some(l) => Ok(&l.env),
        None => Err(RuntimeError::NotFound {
            searched: library_search_dirs(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_versioned_library_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(library_in(dir.path()), None);
        let name = format!(
            "{}onnxruntime_providers_shared{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        );
        std::fs::write(dir.path().join(name), b"").expect("write");
        assert_eq!(
            library_in(dir.path()),
            None,
            "provider plug-ins are not the runtime"
        );
        if cfg!(target_os = "linux") {
            std::fs::write(dir.path().join("libonnxruntime.so.1.31.1"), b"").expect("write");
            assert_eq!(
                library_in(dir.path()),
                Some(dir.path().join("libonnxruntime.so.1.31.1"))
            );
            std::fs::write(dir.path().join("libonnxruntime.so"), b"").expect("write");
            assert_eq!(
                library_in(dir.path()),
                Some(dir.path().join("libonnxruntime.so"))
            );
        }
    }

    #[test]
    fn not_found_message_says_what_to_do() {
        let msg = RuntimeError::NotFound {
            searched: vec![PathBuf::from("/x/runtime")],
        }
        .to_string();
        assert!(msg.contains("scripts/setup.sh"), "{msg}");
        assert!(msg.contains(ORT_DYLIB_ENV), "{msg}");
        assert!(msg.contains("/x/runtime"), "{msg}");
    }
}
