//! Where the app finds its own folders (models/, runtime/, assets/): next to the executable, in
//! the project checkout the executable was built in, or in the source tree it was compiled from.

use std::path::{Path, PathBuf};

/// Folders that may hold the app's `models/`, `runtime/` and `assets/`, most specific first:
/// the executable's folder, the nearest ancestor of it with a `Cargo.toml` (a `cargo build`
/// checkout: target/<profile>/[deps/]), and the crate's source folder at build time.
pub fn app_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        roots.push(exe_dir.clone());
        if let Some(checkout) = exe_dir
            .ancestors()
            .skip(1)
            .take(4)
            .find(|d| d.join("Cargo.toml").is_file())
        {
            roots.push(checkout.to_path_buf());
        }
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if manifest.is_dir() {
        roots.push(manifest);
    }
    dedup_paths(roots)
}

/// Removes later duplicates (compared after resolving symlinks where possible).
pub fn dedup_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for p in paths {
        let key = p.canonicalize().unwrap_or_else(|_| p.clone());
        if !seen.contains(&key) {
            seen.push(key);
            out.push(p);
        }
    }
    out
}

/// The first existing `<root>/<name>` over [`app_roots`].
pub fn find_app_dir(name: &str) -> Option<PathBuf> {
    app_roots()
        .into_iter()
        .map(|r| r.join(name))
        .find(|p| p.is_dir())
}
