//! The command line: `scenebrush [models|render|compare|segment|edit|train]`.
mod edit;
mod segment;
mod style;
mod train;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::inference::{Generator, ProviderPreference, init_runtime, planned_provider};
use crate::io::{GridCell, ImageFormat, compare_grid, load_label_png_for, save_image};
use crate::models::{
    GraphUsed, Int8Variant, ModelKind, ModelPackage, ModelRegistry, PackageStatus, Precision,
    default_model_dirs,
};
use crate::style::{SavedStyle, Style};

#[derive(Debug, Parser)]
#[command(
    name = "scenebrush",
    version,
    about = "Paint a semantic layout and synthesize a photo from it (SPADE, CC-FPSE via ONNX Runtime).",
    after_help = "Without a subcommand the GUI opens. Set RUST_LOG=info for details, \
                  ORT_DYLIB_PATH to choose the ONNX Runtime library, SCENEBRUSH_MODELS to add model folders."
)]
pub struct Cli {
    /// Scan this folder for model packages instead of the default folders (repeatable)
    #[arg(long = "models-dir", value_name = "DIR", global = true)]
    pub models_dirs: Vec<PathBuf>,
    /// Execution provider: auto, cpu, cuda, tensorrt, directml, coreml
    #[arg(long, value_name = "NAME", default_value = "auto", global = true)]
    pub provider: ProviderPreference,
    /// Which graph of a generator runs: auto (its int8 variant when the package has a usable
    /// one; the default) or float (model.onnx). In the GUI it sets "Use int8 models when
    /// available"
    #[arg(long, value_name = "auto|float", global = true)]
    pub precision: Option<Precision>,
    /// Label map to open in the GUI
    #[arg(long, value_name = "FILE.png")]
    pub labels: Option<PathBuf>,
    /// Photo whose style the GUI takes at start (models with a style encoder)
    #[arg(long, value_name = "PHOTO", conflicts_with = "edit_photo")]
    pub style_photo: Option<PathBuf>,
    /// Photo the GUI starts editing: its layout goes into the canvas
    #[arg(long, value_name = "PHOTO")]
    pub edit_photo: Option<PathBuf>,
    /// With --edit-photo: the edited layout (as `edit --layout`), put into the canvas as a
    /// repaint of the photo's, which Undo brings back
    #[arg(long, value_name = "EDITED.png", requires = "edit_photo")]
    pub edit_layout: Option<PathBuf>,
    /// Generator the GUI paints for (the active model), e.g. camvid-clade; `scenebrush models`
    /// lists them
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the model packages found, with their status
    Models,
    /// Synthesize one image from a label map
    Render(RenderArgs),
    /// Render a label map with several models and save them side by side with captions
    Compare(CompareArgs),
    /// Turn a photo into a label map (class ids) with a segmenter model
    Segment(segment::SegmentArgs),
    /// Edit a photo by repainting its layout: only around the changed pixels is the generated
    /// image blended in; every other pixel stays the photo's own
    Edit(edit::EditArgs),
    /// Train or fine-tune a generator with the bundled trainer, with a progress bar; the
    /// arguments are the trainer's (`scenebrush train --help`)
    Train(train::TrainArgs),
}

pub use edit::EditArgs;
pub use segment::SegmentArgs;
pub use train::TrainArgs;

/// Ends the program with this exit status (the trainer's); the message is already printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("exit status {0}")]
pub struct Exit(pub i32);

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Model id (see `scenebrush models`)
    #[arg(long)]
    pub model: String,
    /// Label map PNG: class ids (8-bit grayscale/palette) or the model's class colours
    #[arg(long, value_name = "FILE.png")]
    pub labels: PathBuf,
    /// Seed of the style noise z
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Style instead of the seed: a photo (its style, from the model's style encoder) or a style
    /// file (--save-style)
    #[arg(long, value_name = "PHOTO|STYLE.json", conflicts_with = "seed")]
    pub style: Option<PathBuf>,
    /// Also save the style used (the photo's, the style file's or the seed) as a style file
    #[arg(long, value_name = "NAME.scenebrush-style.json")]
    pub save_style: Option<PathBuf>,
    /// Output image (.png, .jpg)
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,
    /// Overwrite the outputs if they exist
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Model ids, comma-separated (at least two)
    #[arg(long, value_delimiter = ',', required = true)]
    pub models: Vec<String>,
    /// Label map PNG: class ids (8-bit grayscale/palette) or the models' class colours
    #[arg(long, value_name = "FILE.png")]
    pub labels: PathBuf,
    /// Seed of the style noise z (the same for every model)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Style: a photo, taken by every model with a style encoder (the others use the seed and
    /// say so in their caption), or a style file
    #[arg(long, value_name = "PHOTO|STYLE.json")]
    pub style: Option<PathBuf>,
    /// Output grid image (.png, .jpg)
    #[arg(short, long, value_name = "GRID.png")]
    pub output: PathBuf,
    /// Overwrite the output if it exists
    #[arg(long)]
    pub force: bool,
}

impl Cli {
    /// The model folders to scan: `--models-dir` if given, else the defaults.
    pub fn model_dirs(&self) -> Vec<PathBuf> {
        if self.models_dirs.is_empty() {
            default_model_dirs()
        } else {
            self.models_dirs.clone()
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let dirs = cli.model_dirs();
    let run = Run {
        provider: cli.provider,
        precision: cli.precision.unwrap_or_default(),
    };
    match &cli.command {
        None => crate::ui::run_app(
            crate::ui::AppArgs {
                model_dirs: dirs,
                labels: cli.labels.clone(),
                provider: cli.provider,
                session_file: crate::ui::default_session_file(),
                style_photo: cli.style_photo.clone(),
                edit_photo: cli.edit_photo.clone(),
                edit_layout: cli.edit_layout.clone(),
                model: cli.model.clone(),
            },
            cli.precision,
        ),
        Some(Command::Models) => list_models(&dirs, run, !cli.models_dirs.is_empty()),
        Some(Command::Render(args)) => render(&dirs, run, args),
        Some(Command::Compare(args)) => compare(&dirs, run, args),
        Some(Command::Segment(args)) => segment::segment(&dirs, cli.provider, args),
        Some(Command::Edit(args)) => edit::edit(&dirs, run, args),
        Some(Command::Train(args)) => train::train(args),
    }
}

/// How the generators run: the execution provider and the graph (`--provider`, `--precision`).
#[derive(Debug, Clone, Copy)]
struct Run {
    provider: ProviderPreference,
    precision: Precision,
}

impl Run {
    /// Loads a generator's session as asked; a note on stderr when its int8 variant was wanted
    /// but the float graph runs.
    fn generator(self, package: &ModelPackage) -> anyhow::Result<Generator> {
        let generator = Generator::load_with(package, self.provider, self.precision)
            .with_context(|| format!("model {:?} cannot be loaded", package.meta.id))?;
        if let Some(note) = generator.graph().note() {
            eprintln!("note: {}: {note}", package.meta.id);
        }
        Ok(generator)
    }
}

/// The graphs of a generator package for `scenebrush models`: "float", "float, int8", or
/// "float, int8 (unusable)" (the reason is printed under the table).
fn graphs_text(package: &ModelPackage) -> &'static str {
    match (&package.meta.kind, &package.int8) {
        (ModelKind::Segmenter, _) | (_, Int8Variant::Absent) => "float",
        (_, Int8Variant::Listed { .. }) => "float, int8",
        (_, Int8Variant::Unusable { .. }) => "float, int8 (unusable)",
    }
}

/// The graph `render` runs with `precision`.
fn graph_run(package: &ModelPackage, precision: Precision) -> &'static str {
    match (precision, &package.int8) {
        (Precision::Auto, Int8Variant::Listed { .. })
            if package.meta.kind == ModelKind::Generator =>
        {
            "int8"
        }
        _ => "float",
    }
}

fn dirs_text(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Folders that could not be scanned, one line each, saying what to do.
fn dir_problem_lines(registry: &ModelRegistry, explicit: bool) -> Vec<String> {
    let fix = if explicit {
        "check the path given to --models-dir"
    } else {
        "create it and put model packages in it, or ignore this"
    };
    // The per-user folder is created only when a model is saved there: its absence is normal.
    let user = crate::models::user_models_dir();
    registry
        .dir_problems
        .iter()
        .filter(|p| explicit || Some(&p.dir) != user.as_ref())
        .map(|p| format!("model folder {}; {fix}", p.reason))
        .collect()
}

fn list_models(dirs: &[PathBuf], run: Run, explicit: bool) -> anyhow::Result<()> {
    let pref = run.provider;
    let runtime = init_runtime();
    let registry = ModelRegistry::scan(dirs);
    match &runtime {
        Ok(rt) => println!(
            "ONNX Runtime {} ({})",
            rt.version,
            rt.library_path.display()
        ),
        Err(e) => eprintln!("error: {e}"),
    }
    println!("model folders: {}", dirs_text(dirs));
    for line in dir_problem_lines(&registry, explicit) {
        eprintln!("{}: {line}", if explicit { "error" } else { "note" });
    }
    if registry.entries.is_empty() {
        println!("no model packages found in {}", dirs_text(dirs));
    } else {
        let provider = if runtime.is_ok() {
            planned_provider(pref)
        } else {
            "-".into()
        };
        let rows: Vec<[String; 10]> = registry
            .entries
            .iter()
            .map(|e| {
                let m = e.package.as_ref().map(|p| &p.meta);
                let status = match &e.status {
                    PackageStatus::Available => "available".to_string(),
                    PackageStatus::Unavailable { reason } => format!("unavailable: {reason}"),
                };
                [
                    e.id.clone(),
                    m.map_or("-".into(), |m| m.name.clone()),
                    m.map_or("-".into(), |m| m.kind.to_string()),
                    m.map_or("-".into(), |m| m.architecture.clone()),
                    m.and_then(|m| m.discriminator.clone())
                        .unwrap_or("-".into()),
                    m.map_or("-".into(), |m| format!("{}x{}", m.width, m.height)),
                    e.package.as_ref().map_or("-", graphs_text).into(),
                    match &e.package {
                        Some(p) if e.is_available() => graph_run(p, run.precision).into(),
                        _ => "-".into(),
                    },
                    if e.is_available() {
                        provider.clone()
                    } else {
                        "-".into()
                    },
                    status,
                ]
            })
            .collect();
        let header = [
            "ID", "NAME", "KIND", "ARCH", "DISC", "SIZE", "GRAPHS", "RUNS", "PROVIDER", "STATUS",
        ];
        let mut widths = header.map(str::len);
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            println!("{}", s.trim_end());
        };
        line(&header.map(String::from));
        for r in &rows {
            line(r);
        }
        // Why an int8 variant is not used (the package stays available with its float graph).
        for e in registry.entries.iter().filter(|e| e.is_available()) {
            if let Some(reason) = e.package.as_ref().and_then(|p| p.int8.problem()) {
                println!("note: {}: {reason}", e.id);
            }
        }
        println!(
            "RUNS: the graph render, compare and edit run with --precision {} (auto: the int8 \
             variant when a package has a usable one; float: model.onnx)",
            run.precision
        );
    }
    runtime
        .map(|_| ())
        .context("models cannot run without ONNX Runtime")?;
    if explicit && !registry.dir_problems.is_empty() {
        // Already explained above, one line per folder.
        return Err(Exit(1).into());
    }
    Ok(())
}

/// Finds an available package by id, with an actionable error otherwise.
fn find_package(
    registry: &ModelRegistry,
    id: &str,
    dirs: &[PathBuf],
) -> anyhow::Result<ModelPackage> {
    match registry.get(id) {
        Some(e) => match (&e.status, &e.package) {
            (PackageStatus::Available, Some(p)) => Ok(p.clone()),
            (PackageStatus::Unavailable { reason }, _) => {
                bail!("model {id:?} is unavailable: {reason}")
            }
            (PackageStatus::Available, None) => bail!("model {id:?} has no package"),
        },
        None => {
            // The listing must not call a package with a broken network available: check the
            // networks too (only on this error path) when ONNX Runtime is there.
            let checked;
            let registry = if init_runtime().is_ok() {
                checked = ModelRegistry::scan(dirs);
                &checked
            } else {
                registry
            };
            let ids = registry.available_ids();
            let mut known = if ids.is_empty() {
                "no models are available there".to_string()
            } else {
                format!("available: {}", ids.join(", "))
            };
            // Shadowed copies of an available id are not listed: that id is there.
            let broken: Vec<&str> = registry
                .entries
                .iter()
                .filter(|e| !e.is_available() && !ids.contains(&e.id))
                .map(|e| e.id.as_str())
                .collect();
            if !broken.is_empty() {
                known.push_str(&format!("; unavailable: {}", broken.join(", ")));
            }
            for p in &registry.dir_problems {
                known.push_str(&format!("; {}", p.reason));
            }
            bail!(
                "unknown model {id:?} in {} ({known}); run `scenebrush models` to list them with \
                 the reasons",
                dirs_text(dirs)
            )
        }
    }
}

/// Fails early (before any inference) when the output cannot be written.
fn check_output(path: &Path, force: bool) -> anyhow::Result<()> {
    ImageFormat::from_path(path)?;
    check_new_file(path, force)
}

/// Fails when `path` exists (unless `force`) or its folder does not.
fn check_new_file(path: &Path, force: bool) -> anyhow::Result<()> {
    if !force && path.exists() {
        bail!(
            "{} already exists; choose another name or pass --force to overwrite it",
            path.display()
        );
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent
        && !dir.is_dir()
    {
        bail!(
            "the folder {} does not exist; create it first",
            dir.display()
        );
    }
    Ok(())
}

fn check_labels_file(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        return Err(crate::io::IoError::Folder(path.to_path_buf()).into());
    }
    if !path.is_file() {
        bail!(
            "label map {} does not exist; give a PNG of class ids or class colours \
             (examples in assets/layouts/)",
            path.display()
        );
    }
    Ok(())
}

struct Rendered {
    image: image::RgbaImage,
    ms: f64,
    provider: String,
    graph: GraphUsed,
}

fn render_one(
    package: &ModelPackage,
    labels: &Path,
    style: &Style,
    run: Run,
) -> anyhow::Result<Rendered> {
    let map = load_label_png_for(labels, &package.meta)?;
    init_runtime()?;
    let mut generator = run.generator(package)?;
    for note in &generator.provider().notes {
        tracing::info!("{}: {note}", package.meta.id);
    }
    let start = Instant::now();
    let image = crate::style::generate(&mut generator, &map, style)?;
    Ok(Rendered {
        image,
        ms: start.elapsed().as_secs_f64() * 1e3,
        provider: generator.provider().used.clone(),
        graph: generator.graph().clone(),
    })
}

fn render(dirs: &[PathBuf], run: Run, args: &RenderArgs) -> anyhow::Result<()> {
    let pref = run.provider;
    check_output(&args.output, args.force)?;
    if let Some(path) = &args.save_style {
        style::check_style_output(path, args.force)?;
    }
    check_labels_file(&args.labels)?;
    let style_input = args
        .style
        .as_deref()
        .map(style::StyleInput::read)
        .transpose()?;
    let registry = ModelRegistry::scan_metadata(dirs);
    let package = find_package(&registry, &args.model, dirs)?;
    let style = match &style_input {
        None => Style::Seed(args.seed),
        Some(input) => match input.resolve(&package, pref)? {
            style::Resolved::Style(style) => style,
            style::Resolved::Fallback { error, .. } => return Err(error),
        },
    };
    let r = render_one(&package, &args.labels, &style, run)?;
    if let Some(path) = &args.save_style {
        let name = style_input
            .as_ref()
            .map_or_else(|| style.describe(), style::StyleInput::name);
        SavedStyle::new(name, style.clone()).save(path, args.force)?;
    }
    save_image(&args.output, &r.image, args.force)?;
    println!(
        "wrote {} ({}x{}) with {} ({}) on {}, {}, {:.1} ms{}",
        args.output.display(),
        r.image.width(),
        r.image.height(),
        package.meta.id,
        r.graph.label(),
        r.provider,
        style.describe(),
        r.ms,
        args.save_style
            .as_ref()
            .map_or_else(String::new, |p| format!("; style saved to {}", p.display()))
    );
    Ok(())
}

fn compare(dirs: &[PathBuf], run: Run, args: &CompareArgs) -> anyhow::Result<()> {
    let pref = run.provider;
    let ids: Vec<&str> = args
        .models
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() < 2 {
        bail!(
            "compare needs at least two model ids (--models a,b); use `scenebrush render` for one"
        );
    }
    check_output(&args.output, args.force)?;
    check_labels_file(&args.labels)?;
    let style_input = args
        .style
        .as_deref()
        .map(style::StyleInput::read)
        .transpose()?;
    let registry = ModelRegistry::scan_metadata(dirs);
    let packages = ids
        .iter()
        .map(|id| find_package(&registry, id, dirs))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Each model's style: the photo's (from its encoder) or the file's, else the seed, said so.
    let mut styles = Vec::with_capacity(packages.len());
    let mut fallbacks = Vec::new();
    for package in &packages {
        styles.push(match &style_input {
            None => (Style::Seed(args.seed), None),
            Some(input) => match input.resolve(package, pref)? {
                style::Resolved::Style(style) => (style, None),
                style::Resolved::Fallback { why, error } => {
                    fallbacks.push(error);
                    (Style::Seed(args.seed), Some(why))
                }
            },
        });
    }
    if let Some(input) = &style_input
        && fallbacks.len() == packages.len()
    {
        let reasons: Vec<String> = fallbacks.iter().map(|e| format!("{e:#}")).collect();
        bail!(
            "none of the models can take the style {}: {}",
            input.path().display(),
            reasons.join("; ")
        );
    }
    let first = &packages[0].meta;
    let layout = load_label_png_for(&args.labels, first)?;
    let file_name = args.labels.file_name().map_or_else(
        || args.labels.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut cells = vec![GridCell {
        image: layout.to_color_image(&first.palette()),
        caption: vec!["Layout".into(), file_name],
    }];
    for (package, (style, fallback)) in packages.iter().zip(&styles) {
        let m = &package.meta;
        let r = render_one(package, &args.labels, style, run)?;
        let style_text = match fallback {
            Some(why) => format!("{} ({why})", style.describe()),
            None => style.describe(),
        };
        cells.push(GridCell {
            image: r.image,
            caption: vec![
                m.name.clone(),
                format!(
                    "{} · disc {}",
                    m.architecture,
                    m.discriminator.as_deref().unwrap_or("-")
                ),
                format!(
                    "{:.0} ms on {} · {} · {style_text}",
                    r.ms,
                    r.provider,
                    r.graph.label()
                ),
            ],
        });
        if let Some(why) = fallback {
            eprintln!("note: {} is rendered with seed {} ({why})", m.id, args.seed);
        }
    }
    let grid = compare_grid(&cells);
    save_image(&args.output, &grid, args.force)?;
    let with = match &style_input {
        None => format!("seed {}", args.seed),
        Some(input) => format!(
            "style {} ({} of {} models; the others seed {})",
            input.path().display(),
            packages.len() - fallbacks.len(),
            packages.len(),
            args.seed
        ),
    };
    println!(
        "wrote {} ({}x{}): {} with {with}",
        args.output.display(),
        grid.width(),
        grid.height(),
        ids.join(", "),
    );
    Ok(())
}
