//! `scenebrush segment PHOTO -o LABELS.png`: a photo becomes a label map (class ids).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::inference::{ProviderPreference, Segmenter, init_runtime, read_photo};
use crate::io::save_label_ids_png;
use crate::models::{ModelKind, ModelRegistry};

use super::{dirs_text, find_package};

#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// The photo (PNG or JPEG); it is centre-cropped to the model's aspect ratio and resized
    pub photo: PathBuf,
    /// Segmenter model id (default: camvid-segmenter, else the first segmenter found)
    #[arg(long)]
    pub model: Option<String>,
    /// Output label map: an 8-bit grayscale PNG of class ids at the model's size
    #[arg(short, long, value_name = "LABELS.png")]
    pub output: PathBuf,
    /// Overwrite the output if it exists
    #[arg(long)]
    pub force: bool,
}

fn check_output(path: &Path, force: bool) -> anyhow::Result<()> {
    let is_png = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        bail!(
            "{} is not a .png name; a label map is saved as a PNG of class ids",
            path.display()
        );
    }
    super::check_output(path, force)
}

pub fn segment(
    dirs: &[PathBuf],
    pref: ProviderPreference,
    args: &SegmentArgs,
) -> anyhow::Result<()> {
    check_output(&args.output, args.force)?;
    if args.photo.is_dir() {
        return Err(crate::io::IoError::Folder(args.photo.to_path_buf()).into());
    }
    if !args.photo.is_file() {
        bail!(
            "photo {} does not exist; give a PNG or JPEG photo",
            args.photo.display()
        );
    }
    let registry = ModelRegistry::scan_metadata(dirs);
    let package = match &args.model {
        Some(id) => find_package(&registry, id, dirs)?,
        None => match registry.default_segmenter() {
            Some(p) => p.clone(),
            None => bail!(
                "no segmenter model in {}; the app ships one as models/camvid-segmenter (a \
                 package of kind \"segmenter\"), or pass --model ID (`scenebrush models` lists \
                 the models found)",
                dirs_text(dirs)
            ),
        },
    };
    if package.meta.kind != ModelKind::Segmenter {
        let segmenters: Vec<String> = registry.segmenters().map(|p| p.meta.id.clone()).collect();
        bail!(
            "model {:?} is a {}, not a segmenter; segmenters here: {}",
            package.meta.id,
            package.meta.kind,
            if segmenters.is_empty() {
                "none".to_string()
            } else {
                segmenters.join(", ")
            }
        );
    }
    let photo = read_photo(&args.photo)?;
    init_runtime()?;
    let mut segmenter = Segmenter::load(&package, pref)
        .with_context(|| format!("model {:?} cannot be loaded", package.meta.id))?;
    let start = Instant::now();
    let labels = segmenter.segment(&photo)?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    save_label_ids_png(&args.output, &labels, args.force)?;

    let hist = labels.histogram();
    let total = (labels.width() * labels.height()).max(1) as f64;
    let mut shares: Vec<(u64, String)> = package
        .meta
        .classes
        .iter()
        .filter(|c| hist[usize::from(c.id)] > 0)
        .map(|c| (hist[usize::from(c.id)], c.name.clone()))
        .collect();
    shares.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let shares: Vec<String> = shares
        .iter()
        .take(6)
        .map(|(n, name)| format!("{name} {:.0}%", *n as f64 * 100.0 / total))
        .collect();
    println!(
        "wrote {} ({}x{} class ids) from {} with {} on {} in {ms:.0} ms: {}",
        args.output.display(),
        labels.width(),
        labels.height(),
        args.photo.display(),
        package.meta.id,
        segmenter.provider().used,
        shares.join(", ")
    );
    Ok(())
}
