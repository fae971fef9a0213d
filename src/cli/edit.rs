//! `scenebrush edit --photo P --layout EDITED.png --model ID -o OUT.png [--full-size]`: a photo
//! edited by repainting its layout (see [`crate::edit`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use crate::canvas::LabelMap;
use crate::edit::{DILATE_PX, PhotoEdit};
use crate::inference::{Segmenter, StyleEncoder, has_encoder, init_runtime, read_photo};
use crate::io::{ImageFormat, load_label_png_for, save_image};
use crate::models::{ModelKind, ModelMeta, ModelPackage, ModelRegistry};
use crate::style::Style;

use super::style::{Resolved, StyleInput};
use super::{Run, check_labels_file, check_output, dirs_text, find_package};

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The photo to edit (PNG or JPEG)
    #[arg(long, value_name = "PHOTO")]
    pub photo: PathBuf,
    /// The photo's layout, repainted: e.g. `scenebrush segment PHOTO -o L.png`, then edited
    #[arg(long, value_name = "EDITED.png")]
    pub layout: PathBuf,
    /// Generator model id
    #[arg(long)]
    pub model: String,
    /// The photo's own layout to compare with (default: the segmenter's layout of the photo,
    /// as `scenebrush segment` makes it)
    #[arg(long, value_name = "ORIGINAL.png")]
    pub original: Option<PathBuf>,
    /// Segmenter model id for the photo's own layout (default: camvid-segmenter, else the first)
    #[arg(long, value_name = "ID")]
    pub segmenter: Option<String>,
    /// Style of the generated part: a photo or a style file (default: the photo's own style when
    /// the model has a style encoder, else --seed)
    #[arg(long, value_name = "PHOTO|STYLE.json", conflicts_with = "seed")]
    pub style: Option<PathBuf>,
    /// Seed of the style noise instead of the photo's own style
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the photo at its own size (the generated part upscaled inside the mask) instead of
    /// the model's size
    #[arg(long)]
    pub full_size: bool,
    /// Output image (.png keeps every unchanged pixel exact; .jpg re-compresses them)
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,
    /// Overwrite the output if it exists
    #[arg(long)]
    pub force: bool,
}

/// The segmenter's classes must be the generator's (ids and names), or the layouts mean
/// different things.
fn check_same_classes(segmenter: &ModelMeta, generator: &ModelMeta) -> anyhow::Result<()> {
    let same = segmenter.classes.len() == generator.classes.len()
        && segmenter.classes.iter().all(|c| {
            generator
                .class(c.id)
                .is_some_and(|d| d.name.eq_ignore_ascii_case(&c.name))
        });
    let aspect = |m: &ModelMeta| f64::from(m.width) / f64::from(m.height);
    if (aspect(segmenter) / aspect(generator) - 1.0).abs() > 0.01 {
        bail!(
            "the segmenter {} sees photos at {}x{} and the generator {} at {}x{}: other aspect \
             ratios crop the photo differently; pass the photo's own layout with --original",
            segmenter.id,
            segmenter.width,
            segmenter.height,
            generator.id,
            generator.width,
            generator.height
        );
    }
    if !same {
        bail!(
            "the segmenter {} labels photos with other classes than the generator {} paints \
             ({} and {} classes); choose a generator trained with the segmenter's classes, or \
             pass the photo's own layout with --original",
            segmenter.id,
            generator.id,
            segmenter.classes.len(),
            generator.classes.len()
        );
    }
    Ok(())
}

fn segmenter_package(
    registry: &ModelRegistry,
    id: Option<&str>,
    dirs: &[PathBuf],
) -> anyhow::Result<ModelPackage> {
    let package = match id {
        Some(id) => find_package(registry, id, dirs)?,
        None => match registry.default_segmenter() {
            Some(p) => p.clone(),
            None => bail!(
                "no segmenter model in {} to find the photo's own layout; pass it with \
                 --original LAYOUT.png (the layout the edit started from), or add a segmenter \
                 (models/camvid-segmenter)",
                dirs_text(dirs)
            ),
        },
    };
    if package.meta.kind != ModelKind::Segmenter {
        bail!(
            "model {:?} is a {}, not a segmenter; give a segmenter to --segmenter",
            package.meta.id,
            package.meta.kind
        );
    }
    Ok(package)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

pub(super) fn edit(dirs: &[PathBuf], run: Run, args: &EditArgs) -> anyhow::Result<()> {
    let pref = run.provider;
    check_output(&args.output, args.force)?;
    if args.photo.is_dir() {
        return Err(crate::io::IoError::Folder(args.photo.clone()).into());
    }
    if !args.photo.is_file() {
        bail!(
            "photo {} does not exist; give a PNG or JPEG photo",
            args.photo.display()
        );
    }
    check_labels_file(&args.layout)?;
    if let Some(original) = &args.original {
        check_labels_file(original)?;
    }
    let photo = read_photo(&args.photo)?;
    let style_input = args.style.as_deref().map(StyleInput::read).transpose()?;
    let registry = ModelRegistry::scan_metadata(dirs);
    let package = find_package(&registry, &args.model, dirs)?;
    let meta = &package.meta;
    if meta.kind != ModelKind::Generator {
        bail!(
            "model {:?} is a {}, not a generator; give a generator to --model",
            meta.id,
            meta.kind
        );
    }
    let edited = load_label_png_for(&args.layout, meta)?;
    init_runtime()?;
    let original: LabelMap = match &args.original {
        Some(path) => load_label_png_for(path, meta)?,
        None => {
            let seg = segmenter_package(&registry, args.segmenter.as_deref(), dirs)?;
            check_same_classes(&seg.meta, meta)?;
            let mut segmenter = Segmenter::load(&seg, pref)
                .with_context(|| format!("model {:?} cannot be loaded", seg.meta.id))?;
            segmenter.segment(&photo)?
        }
    };
    let edit = PhotoEdit::new(photo, &original, meta.width, meta.height);
    let mask = edit.mask(&edited)?;

    let style = match (&style_input, args.seed) {
        (Some(input), _) => match input.resolve(&package, pref)? {
            Resolved::Style(style) => style,
            Resolved::Fallback { error, .. } => return Err(error),
        },
        (None, Some(seed)) => Style::Seed(seed),
        (None, None) if has_encoder(&package) => {
            let mut encoder = StyleEncoder::load(&package, pref).with_context(|| {
                format!("the style encoder of model {:?} cannot be loaded", meta.id)
            })?;
            Style::Vector(encoder.style_from_photo(&edit.photo, Some(file_name(&args.photo)))?)
        }
        (None, None) => Style::Seed(0),
    };
    let mut graph = "";
    let generated = if mask.is_empty() {
        // Nothing to generate: the output is the photo.
        None
    } else {
        let mut generator = run.generator(&package)?;
        graph = generator.graph().label();
        let image = crate::style::generate(&mut generator, &edited, &style)?;
        Some(image::DynamicImage::ImageRgba8(image).into_rgb8())
    };
    let generated = generated.unwrap_or_else(|| image::RgbImage::new(meta.width, meta.height));
    let out = if args.full_size {
        edit.edited_full_size(&generated, &mask)?
    } else {
        edit.edited(&generated, &mask)?
    };
    let rgba = image::DynamicImage::ImageRgb8(out).into_rgba8();
    save_image(&args.output, &rgba, args.force)?;
    if matches!(
        ImageFormat::from_path(&args.output),
        Ok(ImageFormat::Jpeg { .. })
    ) {
        eprintln!(
            "note: JPEG re-compresses every pixel, so the unchanged part is close to the photo \
             but not exact; save as .png to keep it exact"
        );
    }
    let (w, h) = rgba.dimensions();
    if mask.is_empty() {
        println!(
            "wrote {} ({w}x{h}): the layout is the photo's own, so this is the photo{}",
            args.output.display(),
            if args.full_size {
                ""
            } else {
                " at the model's size"
            }
        );
    } else {
        println!(
            "wrote {} ({w}x{h}): {} edited with {} ({graph}), {}; at the model's {}x{}, {} layout \
             pixels changed and {} pixels within {DILATE_PX} px of them are blended: every other \
             pixel is the photo's own",
            args.output.display(),
            file_name(&args.photo),
            meta.id,
            style.describe(),
            meta.width,
            meta.height,
            mask.changed_pixels(),
            mask.covered_pixels(),
        );
    }
    Ok(())
}
