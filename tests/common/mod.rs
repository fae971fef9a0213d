//! Helpers shared by the integration tests: the fixture packages and the ONNX Runtime library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use scenebrush::canvas::LabelMap;
use scenebrush::inference::{RuntimeInfo, init_runtime};
use scenebrush::models::ModelPackage;

/// The fixture packages every test run needs (exported by the trainer from untrained networks).
pub const FIXTURES: [&str; 2] = ["fixture-spade-untrained", "fixture-ccfpse-untrained"];

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/models`, or `$SCENEBRUSH_TEST_FIXTURES` to try other packages.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("SCENEBRUSH_TEST_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("tests/fixtures/models"))
}

/// Loads ONNX Runtime; a missing library fails the test with the how-to message.
pub fn runtime() -> RuntimeInfo {
    match init_runtime() {
        Ok(info) => info,
        Err(e) => panic!("ONNX Runtime is required for this test: {e}"),
    }
}

/// Every generator package in the fixtures directory, which must hold at least [`FIXTURES`]
/// (the segmenter fixture is left out: these tests synthesize images).
pub fn fixture_packages() -> Vec<ModelPackage> {
    let dir = fixtures_dir();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read fixture packages in {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("model.json").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixture packages in {}", dir.display());
    dirs.iter()
        .map(|d| ModelPackage::load(d).unwrap_or_else(|e| panic!("fixture package is broken: {e}")))
        .filter(|p| p.meta.kind == scenebrush::models::ModelKind::Generator)
        .collect()
}

pub fn fixture(id: &str) -> ModelPackage {
    let dir = fixtures_dir().join(id);
    ModelPackage::load(&dir).unwrap_or_else(|e| {
        panic!("fixture package {id} is missing or broken ({e}); the trainer exports it")
    })
}

/// The first fixture package (for tests that need any generator).
pub fn any_fixture() -> ModelPackage {
    fixture_packages().remove(0)
}

/// Raw little-endian f32 values.
pub fn read_f32_le(path: &Path) -> Vec<f32> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert_eq!(
        bytes.len() % 4,
        0,
        "{} is not a whole number of f32",
        path.display()
    );
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Copies a package folder (all files) to `dest`.
pub fn copy_package(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("create package folder");
    for entry in std::fs::read_dir(src)
        .expect("read package")
        .filter_map(Result::ok)
    {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dest.join(entry.file_name())).expect("copy file");
        }
    }
}

/// A street-like layout at the package's size using its class ids 0..3 and its last id.
pub fn sample_layout(package: &ModelPackage) -> LabelMap {
    let m = &package.meta;
    let n = m.classes.len() as u8;
    let mut map = LabelMap::new(m.width, m.height, 0);
    for y in m.height / 2..m.height {
        for x in 0..m.width {
            map.set(x, y, 3.min(n - 1));
        }
    }
    for y in m.height / 4..m.height / 2 {
        for x in 0..m.width / 3 {
            map.set(x, y, 1.min(n - 1));
        }
    }
    map
}

/// A file dropped on the window, as egui hands it to the app.
#[derive(Debug)]
pub struct PathFile(pub PathBuf);

impl egui::DroppedFile for PathFile {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// PNG's CRC-32 (ISO 3309), for tests that build or mend chunks by hand.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG of a few dozen bytes whose header declares `w` x `h` 8-bit RGBA pixels.
pub fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01");
    chunk(&mut png, b"IEND", b"");
    png
}

/// eframe's settings storage, in memory: what the app saves on exit and reads at start.
#[derive(Default)]
pub struct MemoryStorage(pub std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

/// A synthetic street photo at CamVid's 480x360 (sky on top, striped facades, road below)
/// scaled by `gain`: the same scene in dimmer or brighter light.
pub fn street_photo(gain: f32) -> image::RgbImage {
    image::RgbImage::from_fn(480, 360, |x, y| {
        let c: [f32; 3] = if y < 100 {
            [200.0, 210.0, 230.0]
        } else if y < 230 {
            if (x / 40) % 2 == 0 {
                [150.0, 110.0, 90.0]
            } else {
                [120.0, 90.0, 80.0]
            }
        } else {
            [90.0, 85.0, 95.0]
        };
        let n = ((x * 7 + y * 13) % 17) as f32;
        image::Rgb(c.map(|v| ((v + n) * gain).clamp(0.0, 255.0) as u8))
    })
}
