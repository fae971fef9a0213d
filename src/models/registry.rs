use std::path::{Path, PathBuf};

use super::meta::ModelKind;
use super::package::{METADATA_FILE, ModelPackage, NETWORK_FILE, PackageError};

/// Environment variable with extra model folders (separated like PATH).
pub const MODELS_ENV: &str = "SCENEBRUSH_MODELS";
/// Id of the segmenter shipped in models/.
pub const DEFAULT_SEGMENTER: &str = "camvid-segmenter";
/// Id of the generator the app starts with: the shipped model fast enough to follow the brush.
pub const DEFAULT_GENERATOR: &str = "camvid-spade";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageStatus {
    Available,
    Unavailable { reason: String },
}

#[derive(Debug, Clone)]
pub struct RegistryEntry {
    pub dir: PathBuf,
    /// The package's id, or its folder name when model.json cannot be read.
    pub id: String,
    pub package: Option<ModelPackage>,
    /// Whether the package itself can be used (readable, valid, not shadowed). Whether a
    /// session could be made from it is the GUI's to know (its generators' load state).
    pub status: PackageStatus,
}

impl RegistryEntry {
    pub fn is_available(&self) -> bool {
        self.status == PackageStatus::Available && self.package.is_some()
    }

    pub fn reason(&self) -> Option<&str> {
        match &self.status {
            PackageStatus::Available => None,
            PackageStatus::Unavailable { reason } => Some(reason),
        }
    }
}

/// A scanned folder that could not be looked into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirProblem {
    pub dir: PathBuf,
    /// A sentence naming the folder: "/x does not exist".
    pub reason: String,
}

/// All packages found in the model folders, usable or not.
#[derive(Debug, Clone, Default)]
pub struct ModelRegistry {
    pub entries: Vec<RegistryEntry>,
    /// The folders scanned, in order.
    pub dirs: Vec<PathBuf>,
    /// Folders among `dirs` that do not exist or cannot be read.
    pub dir_problems: Vec<DirProblem>,
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Package folders directly inside `dir`, sorted by name (hidden folders skipped), or `dir`
/// itself when it is a package. Symbolic links that cannot be followed are kept (so they are
/// listed as broken, not silently left out).
fn package_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    // A folder given directly as a package (has model.json) is one package, not a parent,
    // even when that model.json is broken (a folder, a dangling link): it is then listed so.
    let has = |name: &str| std::fs::symlink_metadata(dir.join(name)).is_ok();
    if has(METADATA_FILE) || has(NETWORK_FILE) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("{} does not exist", dir.display()));
        }
        Err(_) if dir.exists() && !dir.is_dir() => {
            return Err(format!(
                "{} is a file, not a folder of model packages",
                dir.display()
            ));
        }
        Err(e) => return Err(format!("cannot read the folder {}: {e}", dir.display())),
    };
    let mut dirs: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let hidden = folder_name(p).starts_with('.');
            let dangling_link = p.is_symlink() && std::fs::metadata(p).is_err();
            !hidden && (p.is_dir() || dangling_link)
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The id a broken package declares, if its model.json is at least JSON with an id.
fn id_hint(dir: &Path) -> Option<String> {
    let json = dir.join(METADATA_FILE);
    // Only a plain file of reasonable size: a pipe would block, a huge file is not metadata.
    if !std::fs::metadata(&json).is_ok_and(|m| m.is_file() && m.len() < 1 << 20) {
        return None;
    }
    let text = std::fs::read_to_string(json).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("id")?
        .as_str()
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

impl ModelRegistry {
    /// Reads every package in `dirs` and opens each network with ONNX Runtime (model.onnx and
    /// the int8 variant, when listed) to check that its inputs and outputs match its metadata. Broken packages are kept as unavailable entries
    /// with the reason; see [`ModelRegistry::scan_metadata`] for which of several packages with
    /// one id is used.
    pub fn scan(dirs: &[PathBuf]) -> ModelRegistry {
        let mut reg = Self::scan_metadata(dirs);
        for entry in &mut reg.entries {
            if entry.status != PackageStatus::Available {
                continue;
            }
            let Some(package) = &mut entry.package else {
                continue;
            };
            match crate::inference::check_package(package) {
                // The int8 variant is checked as model.onnx is; its problems stay a note.
                Ok(()) => package.int8 = crate::inference::check_int8_variant(package),
                Err(e) => {
                    entry.status = PackageStatus::Unavailable {
                        reason: e.to_string(),
                    }
                }
            }
        }
        reg
    }

    /// Like [`ModelRegistry::scan`] without opening the networks (no ONNX Runtime needed).
    ///
    /// Several packages with one id: the one in the earlier folder of `dirs` wins (the app's
    /// `models/`, then the per-user folder, then `$SCENEBRUSH_MODELS`); within one folder, the
    /// package whose folder is named after the id, else the first by folder name. So a copy
    /// (`camvid-spade-old/` with id camvid-spade) never shadows the original. The others are
    /// listed as unavailable, naming the one used. One package reached twice (a folder given
    /// twice, or through a symbolic link) is listed once.
    pub fn scan_metadata(dirs: &[PathBuf]) -> ModelRegistry {
        let mut reg = ModelRegistry {
            entries: Vec::new(),
            dirs: dirs.to_vec(),
            dir_problems: Vec::new(),
        };
        let mut seen: Vec<PathBuf> = Vec::new();
        for dir in crate::paths::dedup_paths(dirs.to_vec()) {
            let pkg_dirs = match package_dirs(&dir) {
                Ok(d) => d,
                Err(reason) => {
                    reg.dir_problems.push(DirProblem { dir, reason });
                    continue;
                }
            };
            let mut loaded = Vec::new();
            for pkg_dir in pkg_dirs {
                let key = pkg_dir.canonicalize().unwrap_or_else(|_| pkg_dir.clone());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let result = ModelPackage::load(&pkg_dir);
                loaded.push((pkg_dir, result));
            }
            // The package of each id this folder provides: named after the id, else the first.
            let winner = |id: &str| {
                let of_id = || {
                    loaded
                        .iter()
                        .filter(move |(_, r)| r.as_ref().is_ok_and(|p| p.meta.id == id))
                };
                of_id()
                    .find(|(d, _)| folder_name(d) == id)
                    .map(|(d, _)| (d.clone(), "its folder is named after the id"))
                    .or_else(|| {
                        of_id()
                            .next()
                            .map(|(d, _)| (d.clone(), "its folder name sorts first"))
                    })
            };
            let mut entries = Vec::new();
            for (pkg_dir, result) in &loaded {
                let entry = match result {
                    Ok(package) => {
                        let id = package.meta.id.clone();
                        let earlier = reg
                            .get(&id)
                            .filter(|e| e.package.is_some())
                            .map(|e| (e.dir.clone(), "it is in an earlier model folder"));
                        let first = earlier.or_else(|| winner(&id).filter(|(d, _)| d != pkg_dir));
                        let status = match first {
                            Some((first, why)) => PackageStatus::Unavailable {
                                reason: PackageError::Duplicate {
                                    id: id.clone(),
                                    first,
                                    this: pkg_dir.clone(),
                                    why,
                                }
                                .to_string(),
                            },
                            None => PackageStatus::Available,
                        };
                        let package = (status == PackageStatus::Available).then(|| package.clone());
                        RegistryEntry {
                            dir: pkg_dir.clone(),
                            id,
                            package,
                            status,
                        }
                    }
                    Err(e) => RegistryEntry {
                        id: id_hint(pkg_dir).unwrap_or_else(|| folder_name(pkg_dir)),
                        dir: pkg_dir.clone(),
                        package: None,
                        status: PackageStatus::Unavailable {
                            reason: e.to_string(),
                        },
                    },
                };
                entries.push(entry);
            }
            reg.entries.extend(entries);
        }
        reg
    }

    /// Usable packages, in scan order.
    pub fn available(&self) -> impl Iterator<Item = &ModelPackage> {
        self.entries
            .iter()
            .filter(|e| e.is_available())
            .filter_map(|e| e.package.as_ref())
    }

    /// Usable generators: the default one first when present, then the others in scan order.
    pub fn generators(&self) -> impl Iterator<Item = &ModelPackage> {
        let all = || {
            self.available()
                .filter(|p| p.meta.kind == ModelKind::Generator)
        };
        all()
            .filter(|p| p.meta.id == DEFAULT_GENERATOR)
            .chain(all().filter(|p| p.meta.id != DEFAULT_GENERATOR))
    }

    /// Usable segmenters, in scan order.
    pub fn segmenters(&self) -> impl Iterator<Item = &ModelPackage> {
        self.available()
            .filter(|p| p.meta.kind == ModelKind::Segmenter)
    }

    /// The segmenter "open photo as layout" uses: the shipped CamVid one if present, else the
    /// first one found.
    pub fn default_segmenter(&self) -> Option<&ModelPackage> {
        self.segmenters()
            .find(|p| p.meta.id == DEFAULT_SEGMENTER)
            .or_else(|| self.segmenters().next())
    }

    /// The first entry with this id (available or not).
    pub fn get(&self, id: &str) -> Option<&RegistryEntry> {
        self.entries
            .iter()
            .find(|e| e.id == id && e.package.is_some())
            .or_else(|| self.entries.iter().find(|e| e.id == id))
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut RegistryEntry> {
        let i = self
            .entries
            .iter()
            .position(|e| e.id == id && e.package.is_some())
            .or_else(|| self.entries.iter().position(|e| e.id == id))?;
        self.entries.get_mut(i)
    }

    /// Ids of the usable packages, for messages.
    pub fn available_ids(&self) -> Vec<String> {
        self.available().map(|p| p.meta.id.clone()).collect()
    }
}

/// The per-user models folder (e.g. ~/.local/share/scenebrush/models on Linux).
pub fn user_models_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "SceneBrush").map(|d| d.data_dir().join("models"))
}

/// The folders scanned at start-up: `models/` of the app (beside the executable or in the
/// project checkout), the per-user folder, then the folders in `$SCENEBRUSH_MODELS`.
pub fn default_model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = crate::paths::find_app_dir("models") {
        dirs.push(d);
    }
    if let Some(d) = user_models_dir() {
        dirs.push(d);
    }
    if let Some(v) = std::env::var_os(MODELS_ENV) {
        dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
    }
    crate::paths::dedup_paths(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::meta::tests::camvid_json;

    fn write_pkg(root: &Path, folder: &str, json: &str, onnx: bool) -> PathBuf {
        let d = root.join(folder);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("model.json"), json).expect("write json");
        if onnx {
            std::fs::write(d.join("model.onnx"), b"not really onnx").expect("write onnx");
        }
        d
    }

    #[test]
    fn metadata_scan_lists_broken_packages_with_reasons() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write_pkg(root, "a-good", &camvid_json(""), true);
        write_pkg(root, "b-bad-json", "{ nope", true);
        write_pkg(
            root,
            "c-no-onnx",
            &camvid_json("").replace("\"id\": \"t\"", "\"id\": \"c\""),
            false,
        );
        write_pkg(root, "d-dup", &camvid_json(""), true);
        std::fs::create_dir_all(root.join("e-empty")).expect("mkdir");
        std::fs::create_dir_all(root.join(".hidden")).expect("mkdir");
        std::fs::write(root.join("README.md"), "not a package").expect("write");

        let reg = ModelRegistry::scan_metadata(&[root.to_path_buf(), root.join("missing")]);
        let ids: Vec<&str> = reg.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["t", "b-bad-json", "c", "t", "e-empty"]);
        assert!(reg.entries[0].is_available());
        let reason = |i: usize| reg.entries[i].reason().unwrap_or_default().to_string();
        assert!(
            reason(1).contains("b-bad-json/model.json is not valid JSON"),
            "{}",
            reason(1)
        );
        assert!(
            reason(2).contains("c-no-onnx/model.onnx is missing"),
            "{}",
            reason(2)
        );
        assert!(reason(3).contains("already provided by"), "{}", reason(3));
        assert!(
            reason(4).contains("e-empty/model.json is missing"),
            "{}",
            reason(4)
        );
        assert_eq!(reg.available_ids(), ["t"]);
        assert_eq!(reg.get("t").map(|e| e.dir.ends_with("a-good")), Some(true));
        assert!(reg.get("zzz").is_none());
    }

    #[test]
    fn the_default_generator_comes_first() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let with_id =
            |id: &str| camvid_json("").replace("\"id\": \"t\"", &format!("\"id\": \"{id}\""));
        write_pkg(root, "a-other", &with_id("a-other"), true);
        write_pkg(root, "camvid-spade", &with_id(DEFAULT_GENERATOR), true);
        write_pkg(root, "z-last", &with_id("z-last"), true);
        let reg = ModelRegistry::scan_metadata(&[root.to_path_buf()]);
        let ids: Vec<&str> = reg.generators().map(|p| p.meta.id.as_str()).collect();
        assert_eq!(ids, [DEFAULT_GENERATOR, "a-other", "z-last"]);
        assert_eq!(
            reg.available_ids(),
            ["a-other", DEFAULT_GENERATOR, "z-last"]
        );
    }

    #[test]
    fn a_copy_never_shadows_the_original_and_one_package_is_listed_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
        let with_id =
            |id: &str| camvid_json("").replace("\"id\": \"t\"", &format!("\"id\": \"{id}\""));
        // "a-copy" sorts before "orig" but is a copy of it: the folder named after the id wins.
        write_pkg(&first, "a-copy", &with_id("orig"), true);
        let orig = write_pkg(&first, "orig", &with_id("orig"), true);
        // Neither is named after its id: folder-name order.
        write_pkg(&first, "x1", &with_id("other"), true);
        write_pkg(&first, "x2", &with_id("other"), true);
        // An earlier folder wins over a later one, whatever the names.
        write_pkg(&second, "orig", &with_id("orig"), true);
        let missing = tmp.path().join("nowhere");
        // `orig` again, directly: the same package, not a duplicate of itself.
        let reg = ModelRegistry::scan_metadata(&[first.clone(), orig.clone(), second, missing]);
        let rows: Vec<(String, bool)> = reg
            .entries
            .iter()
            .map(|e| (folder_name(&e.dir), e.is_available()))
            .collect();
        let want = [
            ("a-copy", false),
            ("orig", true),
            ("x1", true),
            ("x2", false),
            ("orig", false),
        ];
        assert_eq!(
            rows,
            want.map(|(n, a)| (n.to_string(), a)),
            "{:#?}",
            reg.entries
        );
        assert_eq!(reg.get("orig").map(|e| e.dir.clone()), Some(orig.clone()));
        let reason = |i: usize| reg.entries[i].reason().unwrap_or_default().to_string();
        assert!(
            reason(0).contains(&format!("already provided by {}", orig.display()))
                && reason(0).contains("its folder is named after the id")
                && reason(0).contains("a-copy/model.json"),
            "{}",
            reason(0)
        );
        assert!(
            reason(3).contains("folder name sorts first"),
            "{}",
            reason(3)
        );
        assert!(reason(4).contains("earlier model folder"), "{}", reason(4));
        assert_eq!(reg.dir_problems.len(), 1);
        assert!(
            reg.dir_problems[0]
                .reason
                .ends_with("nowhere does not exist"),
            "{:?}",
            reg.dir_problems
        );
    }

    #[test]
    fn a_network_that_is_a_folder_is_not_called_missing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = write_pkg(tmp.path(), "p", &camvid_json(""), false);
        std::fs::create_dir_all(d.join("model.onnx")).expect("mkdir");
        let reg = ModelRegistry::scan_metadata(&[tmp.path().to_path_buf()]);
        let reason = reg.entries[0].reason().unwrap_or_default();
        assert!(
            reason.contains("p/model.onnx is a folder, not a file"),
            "{reason}"
        );
    }

    #[test]
    fn a_package_folder_can_be_given_directly() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = write_pkg(tmp.path(), "one", &camvid_json(""), true);
        let reg = ModelRegistry::scan_metadata(std::slice::from_ref(&d));
        assert_eq!(reg.available_ids(), ["t"]);
        // Broken, it is still the package, not a folder of packages.
        std::fs::remove_file(d.join("model.json")).expect("rm");
        std::fs::create_dir(d.join("model.json")).expect("mkdir");
        let reg = ModelRegistry::scan_metadata(std::slice::from_ref(&d));
        assert_eq!(reg.entries.len(), 1, "{:?}", reg.entries);
        let reason = reg.entries[0].reason().unwrap_or_default();
        assert!(
            reason.contains("one/model.json is a folder, not a file"),
            "{reason}"
        );
    }
}
