//! From the Train tab's settings to the trainer's command line: the dataset arguments, the class
//! file, the run folder and the package the run exports.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::TrainingError;
use crate::models::{Architecture, ClassInfo, Discriminator, ModelPackage};

/// The training checkpoint a package ships for fine-tuning (`--init-from`).
pub const CHECKPOINT_FILE: &str = "checkpoint.pt";
/// The app's record of a run, in its run folder.
pub const RUN_RECORD_FILE: &str = "scenebrush-run.json";
/// The class list a run was started with, in its run folder.
pub const CLASS_FILE: &str = "classes.json";
/// The events the trainer appends to, in its run folder.
pub const EVENTS_FILE: &str = "events.jsonl";

/// The trainer's own defaults, which the Train tab starts from and a plan spells out. The
/// trainer keeps them in trainer/scenebrush_trainer/training/config.py (`ModelConfig`,
/// `TrainConfig`, `MODEL_PRESETS`) and in the argparse defaults of
/// trainer/scenebrush_trainer/commands/train.py; this is their only copy on the Rust side
/// (`the_trainer_defaults_match_its_config` compares the two).
pub mod trainer_defaults {
    use super::{ModelPreset, Modulation, TrainDevice};
    use crate::models::{Architecture, Discriminator};

    /// `--generator` (`ModelConfig.generator`).
    pub const GENERATOR: Architecture = Architecture::Spade;
    /// `--modulation` (`ModelConfig.modulation`), the SPADE generator's.
    pub const MODULATION: Modulation = Modulation::Spade;
    /// `--discriminator` (`ModelConfig.discriminator`).
    pub const DISCRIMINATOR: Discriminator = Discriminator::Fpse;
    /// `--preset` (network widths).
    pub const PRESET: ModelPreset = ModelPreset::Small;
    /// `--height`, `--width` (`ModelConfig`).
    pub const HEIGHT: u32 = 192;
    pub const WIDTH: u32 = 256;
    /// `--steps`, `--batch-size` (`TrainConfig`).
    pub const STEPS: u64 = 1000;
    pub const BATCH_SIZE: u32 = 1;
    /// `--device`.
    pub const DEVICE: TrainDevice = TrainDevice::Auto;
    /// The mode-seeking term's threshold and pooling (`TrainConfig.ms_tau`, `.ms_pool`).
    pub const MS_TAU: &str = "0.2";
    pub const MS_POOL: &str = "8";
    /// `--diffaug` (`TrainConfig.diffaug`): no DiffAugment.
    pub const DIFFAUG: &str = "off";
    /// `--lambda-labelmix` (`TrainConfig.lambda_labelmix`), OASIS only: the paper's weight.
    pub const LAMBDA_LABELMIX: f64 = 10.0;
}

/// The mode-seeking term as the shipped models were trained with it (trainer/README.md): weight
/// 10, the trainer's threshold and pooling.
pub const MODE_SEEKING: [&str; 6] = [
    "--lambda-ms",
    "10",
    "--ms-tau",
    trainer_defaults::MS_TAU,
    "--ms-pool",
    trainer_defaults::MS_POOL,
];

/// A choice of the Train tab: its trainer argument and label.
macro_rules! choices {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($arg:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The trainer's spelling.
            pub fn arg(self) -> &'static str {
                match self { $($name::$variant => $arg),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }
    };
}

choices!(
    /// Network widths (`--preset`).
    ModelPreset {
        Tiny => ("tiny", "tiny (tests)"),
        Small => ("small", "small (trains on a CPU)"),
        Paper => ("paper", "paper (the published sizes, GPU)"),
    }
);
choices!(
    /// The SPADE generator's label modulation (`--modulation`, trainer/README.md "Cheaper
    /// inference"): SPADE's per-pixel convolutions or CLADE's per-class gamma and beta. Only for
    /// a new SPADE generator: CC-FPSE has none, and a fine-tune keeps its checkpoint's.
    Modulation {
        Spade => ("spade", "SPADE (per-pixel convolutions)"),
        Clade => ("clade", "CLADE (per-class, faster)"),
    }
);
choices!(
    /// Where the trainer runs (`--device`).
    TrainDevice { Auto => ("auto", "auto (GPU if any)"), Cpu => ("cpu", "CPU"), Cuda => ("cuda", "CUDA GPU") }
);

/// DiffAugment (`--diffaug`): differentiable augmentations of every image the discriminator
/// sees, against its overfitting on small datasets. Off by default, as in the trainer; switched
/// on, all three parts, as the DiffAugment paper recommends for a few hundred images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiffAugment {
    pub on: bool,
    /// Brightness, saturation, contrast.
    pub color: bool,
    /// Shifts by up to 1/8 of each side (the label map moves along).
    pub translation: bool,
    /// A half-size rectangle blanked out.
    pub cutout: bool,
}

impl Default for DiffAugment {
    fn default() -> Self {
        Self {
            on: false,
            color: true,
            translation: true,
            cutout: true,
        }
    }
}

impl DiffAugment {
    /// The trainer's policy: the chosen parts in its order (`color,translation,cutout`), or
    /// `off` when switched off or no part is chosen.
    pub fn policy(&self) -> String {
        let parts: Vec<&str> = [
            ("color", self.color),
            ("translation", self.translation),
            ("cutout", self.cutout),
        ]
        .into_iter()
        .filter(|(_, on)| self.on && *on)
        .map(|(name, _)| name)
        .collect();
        if parts.is_empty() {
            trainer_defaults::DIFFAUG.to_string()
        } else {
            parts.join(",")
        }
    }

    /// Whether the trainer gets a policy other than `off`.
    pub fn active(&self) -> bool {
        self.policy() != trainer_defaults::DIFFAUG
    }
}

/// The Train tab's choices (persisted with the app state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    pub photos: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    /// A class list file; `None` uses the classes of the model fine-tuned from (or of the
    /// canvas when training from scratch).
    pub class_file: Option<PathBuf>,
    /// The model to fine-tune (its package must hold `checkpoint.pt`); `None` trains from
    /// scratch.
    pub base_model: Option<String>,
    pub generator: Architecture,
    /// The SPADE generator's modulation, from scratch only (see [`TrainSettings::modulation_arg`]).
    pub modulation: Modulation,
    pub discriminator: Discriminator,
    pub preset: ModelPreset,
    /// The network's size when training from scratch (fine-tuning keeps the base model's).
    pub height: u32,
    pub width: u32,
    pub steps: u64,
    pub batch_size: u32,
    /// From scratch: add the mode-seeking term so that styles (z) differ (fine-tunes keep the base
    /// model's choice).
    pub varied_styles: bool,
    /// DiffAugment, for scratch runs and fine-tunes alike (a fine-tune chooses its own).
    pub diffaug: DiffAugment,
    /// From scratch with the OASIS discriminator: the LabelMix weight (`--lambda-labelmix`; 0
    /// turns it off). Fine-tunes keep the base model's.
    pub labelmix_weight: f64,
    /// Display name of the new model; its id is derived from it.
    pub name: String,
    pub device: TrainDevice,
    /// The latest run started from the app, to resume.
    pub last_run: Option<PathBuf>,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            photos: None,
            labels: None,
            class_file: None,
            base_model: None,
            generator: trainer_defaults::GENERATOR,
            modulation: trainer_defaults::MODULATION,
            discriminator: trainer_defaults::DISCRIMINATOR,
            preset: trainer_defaults::PRESET,
            height: trainer_defaults::HEIGHT,
            width: trainer_defaults::WIDTH,
            steps: trainer_defaults::STEPS,
            batch_size: trainer_defaults::BATCH_SIZE,
            varied_styles: false,
            diffaug: DiffAugment::default(),
            labelmix_weight: trainer_defaults::LAMBDA_LABELMIX,
            name: String::new(),
            device: trainer_defaults::DEVICE,
            last_run: None,
        }
    }
}

impl TrainSettings {
    /// `--modulation`'s value for a run from scratch: only a SPADE generator has one, and the
    /// default (SPADE's) is left to the trainer, so that default argument lists stay as they were.
    pub fn modulation_arg(&self) -> Option<&'static str> {
        (self.generator == Architecture::Spade && self.modulation != trainer_defaults::MODULATION)
            .then(|| self.modulation.arg())
    }

    /// Epochs the steps make over `pairs` training pairs.
    pub fn epochs(&self, pairs: u64) -> f64 {
        if pairs == 0 {
            0.0
        } else {
            self.steps as f64 * f64::from(self.batch_size.max(1)) / pairs as f64
        }
    }

    /// Steps for `epochs` over `pairs` pairs (at least 1).
    pub fn steps_for_epochs(&self, epochs: f64, pairs: u64) -> u64 {
        let steps = epochs * pairs as f64 / f64::from(self.batch_size.max(1));
        if steps.is_finite() {
            (steps.round() as u64).max(1)
        } else {
            1
        }
    }
}

/// `photos/` and `labels/` inside a dataset folder, when it has both.
pub fn dataset_folders(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let photos = ["photos", "images", "train"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_dir())?;
    let labels = ["labels", "annotations", "trainannot"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_dir())?;
    Some((photos, labels))
}

/// The package's training checkpoint, which fine-tuning starts from.
pub fn base_checkpoint(package: &ModelPackage) -> Option<PathBuf> {
    Some(package.dir.join(CHECKPOINT_FILE)).filter(|p| p.is_file())
}

/// A package id from a display name: lowercase letters, digits, `.`, `_`, `-`.
pub fn package_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') {
            c
        } else {
            '-'
        };
        if !(c == '-' && (id.is_empty() || id.ends_with('-'))) {
            id.push(c);
        }
    }
    id.trim_matches(|c| matches!(c, '-' | '.' | '_'))
        .to_string()
}

/// The per-user folder for training runs (e.g. ~/.local/share/scenebrush/runs on Linux).
pub fn user_runs_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "SceneBrush").map(|d| d.data_dir().join("runs"))
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> TrainingError {
    TrainingError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes a class list in the trainer's format (`{"classes": [...], "dontcare": id}`), atomically.
pub fn write_class_file(
    path: &Path,
    classes: &[ClassInfo],
    dontcare: Option<u8>,
) -> Result<(), TrainingError> {
    let mut sorted = classes.to_vec();
    sorted.sort_by_key(|c| c.id);
    let json = serde_json::json!({ "classes": sorted, "dontcare": dontcare });
    let text = serde_json::to_string_pretty(&json).map_err(|e| write_error(path, e))?;
    crate::io::atomic_write(path, true, |w| w.write_all(text.as_bytes()))
        .map_err(|e| write_error(path, e))
}

/// The app's record of a run (`scenebrush-run.json`): what resuming needs besides the checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub name: String,
    pub export_dir: PathBuf,
    #[serde(default)]
    pub base_model: Option<String>,
    #[serde(default)]
    pub steps: u64,
}

impl RunRecord {
    pub fn load(run_dir: &Path) -> Result<RunRecord, TrainingError> {
        let path = run_dir.join(RUN_RECORD_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| TrainingError::Run {
            path: path.clone(),
            message: format!("cannot read it ({e}); is this a run folder made by SceneBrush?"),
        })?;
        serde_json::from_str(&text).map_err(|e| TrainingError::Run {
            path,
            message: format!("not a valid run record: {e}"),
        })
    }

    fn save(&self, run_dir: &Path) -> Result<(), TrainingError> {
        let path = run_dir.join(RUN_RECORD_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| write_error(&path, e))?;
        crate::io::atomic_write(&path, true, |w| w.write_all(text.as_bytes()))
            .map_err(|e| write_error(&path, e))
    }
}

/// A training run ready to start.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainPlan {
    pub run_dir: PathBuf,
    pub events: PathBuf,
    /// Bytes of the events file already there (a resumed run appends).
    pub events_offset: u64,
    pub record: RunRecord,
    /// The trainer's arguments, starting with `train`.
    pub args: Vec<OsString>,
}

/// What a plan needs besides the settings.
#[derive(Debug, Clone, Copy)]
pub struct PlanInputs<'a> {
    /// The package of `settings.base_model`, if fine-tuning.
    pub base: Option<&'a ModelPackage>,
    /// The classes used when no class file is chosen (the base model's, else the canvas's).
    pub classes: &'a [ClassInfo],
    pub dontcare: Option<u8>,
    pub runs_dir: &'a Path,
    pub models_dir: &'a Path,
    /// Ids already in use (the new package must not shadow one).
    pub taken_ids: &'a [String],
}

fn setting(message: impl Into<String>) -> TrainingError {
    TrainingError::Settings(message.into())
}

/// `--photos P --labels L --classes C` for a class file `classes`.
pub fn data_args(settings: &TrainSettings, classes: &Path) -> Result<Vec<OsString>, TrainingError> {
    let photos = settings.photos.as_ref().ok_or_else(|| {
        setting("choose the dataset folder (with photos/ and labels/) or the photos folder")
    })?;
    let labels = settings
        .labels
        .as_ref()
        .ok_or_else(|| setting("choose the label maps folder"))?;
    for (what, dir) in [("photos", photos), ("label maps", labels)] {
        if !dir.is_dir() {
            return Err(setting(format!(
                "the {what} folder {} does not exist; choose another",
                dir.display()
            )));
        }
    }
    Ok(vec![
        "--photos".into(),
        photos.into(),
        "--labels".into(),
        labels.into(),
        "--classes".into(),
        classes.into(),
    ])
}

/// The class file a check or run uses: the chosen file, or `fallback_path` written with the
/// base model's (or canvas's) classes.
pub fn class_file_for(
    settings: &TrainSettings,
    inputs: &PlanInputs,
    fallback_path: &Path,
) -> Result<PathBuf, TrainingError> {
    if let Some(file) = &settings.class_file {
        if !file.is_file() {
            return Err(setting(format!(
                "the class file {} does not exist; choose another or use the model's classes",
                file.display()
            )));
        }
        return Ok(file.clone());
    }
    let (classes, dontcare) = match inputs.base {
        Some(base) => (base.meta.classes.as_slice(), base.meta.dontcare),
        None => (inputs.classes, inputs.dontcare),
    };
    if classes.is_empty() {
        return Err(setting("there is no class list: choose a class file"));
    }
    write_class_file(fallback_path, classes, dontcare)?;
    Ok(fallback_path.to_path_buf())
}

/// A fresh folder `runs_dir/<id>` (or `<id>-2`, ...).
fn new_run_dir(runs_dir: &Path, id: &str) -> Result<PathBuf, TrainingError> {
    std::fs::create_dir_all(runs_dir).map_err(|e| write_error(runs_dir, e))?;
    for n in 1..1000 {
        let dir = if n == 1 {
            runs_dir.join(id)
        } else {
            runs_dir.join(format!("{id}-{n}"))
        };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(write_error(&dir, e)),
        }
    }
    Err(setting(format!(
        "{} holds too many runs named {id}; choose another model name",
        runs_dir.display()
    )))
}

/// Checks the settings, creates the run folder with its class file and record, and returns
/// the command line. Nothing is created when a setting is wrong.
pub fn plan_run(settings: &TrainSettings, inputs: &PlanInputs) -> Result<TrainPlan, TrainingError> {
    let name = settings.name.trim();
    if name.is_empty() {
        return Err(setting("give the new model a name"));
    }
    let id = package_id(name);
    if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(setting(format!(
            "the name {name:?} gives no usable model id; use letters or digits"
        )));
    }
    if inputs.taken_ids.contains(&id) {
        return Err(setting(format!(
            "a model with id {id:?} exists already; choose another name"
        )));
    }
    let export_dir = inputs.models_dir.join(&id);
    if export_dir.exists() {
        return Err(setting(format!(
            "{} exists already; choose another name",
            export_dir.display()
        )));
    }
    if settings.steps == 0 {
        return Err(setting("train for at least 1 step"));
    }
    let init_from = match (&settings.base_model, inputs.base) {
        (Some(id), None) => {
            return Err(setting(format!(
                "the model {id:?} to fine-tune is not available; choose another or train from scratch"
            )));
        }
        (_, Some(base)) => Some(base_checkpoint(base).ok_or_else(|| {
            setting(format!(
                "{} ({}) has no {CHECKPOINT_FILE}: fine-tuning starts from the training \
                 checkpoint, which this package does not ship. Choose a model that has one, or \
                 train from scratch",
                base.meta.name,
                base.dir.display()
            ))
        })?),
        (None, None) => None,
    };
    if init_from.is_none() {
        if settings.discriminator == Discriminator::Oasis
            && !(settings.labelmix_weight.is_finite() && settings.labelmix_weight >= 0.0)
        {
            return Err(setting(format!(
                "the LabelMix weight {} must be a number >= 0 (0 turns LabelMix off)",
                settings.labelmix_weight
            )));
        }
        for (what, v) in [("height", settings.height), ("width", settings.width)] {
            if v == 0 || v % crate::models::SIZE_MULTIPLE != 0 {
                return Err(setting(format!(
                    "the {what} {v} is not a positive multiple of {}",
                    crate::models::SIZE_MULTIPLE
                )));
            }
        }
    }
    // Check the data settings before creating anything.
    data_args(settings, Path::new(CLASS_FILE))?;

    let run_dir = new_run_dir(inputs.runs_dir, &id)?;
    let result = (|| {
        let class_file = class_file_for(settings, inputs, &run_dir.join(CLASS_FILE))?;
        let record = RunRecord {
            id: id.clone(),
            name: name.to_string(),
            export_dir: export_dir.clone(),
            base_model: settings.base_model.clone(),
            steps: settings.steps,
        };
        record.save(&run_dir)?;
        let events = run_dir.join(EVENTS_FILE);
        let mut args: Vec<OsString> = vec!["train".into()];
        args.extend(data_args(settings, &class_file)?);
        match &init_from {
            Some(ckpt) => {
                args.extend(["--init-from".into(), ckpt.into()]);
                args.extend(["--train-preset".into(), "finetune".into()]);
            }
            None => {
                args.extend(["--preset".into(), settings.preset.arg().into()]);
                args.extend(["--generator".into(), settings.generator.as_str().into()]);
                if let Some(m) = settings.modulation_arg() {
                    args.extend(["--modulation".into(), m.into()]);
                }
                args.extend([
                    "--discriminator".into(),
                    settings.discriminator.as_str().into(),
                ]);
                args.extend(["--height".into(), settings.height.to_string().into()]);
                args.extend(["--width".into(), settings.width.to_string().into()]);
                if settings.varied_styles {
                    args.extend(MODE_SEEKING.iter().map(OsString::from));
                }
                if settings.discriminator == Discriminator::Oasis {
                    args.extend([
                        "--lambda-labelmix".into(),
                        settings.labelmix_weight.to_string().into(),
                    ]);
                }
            }
        }
        // A fine-tune does not inherit DiffAugment from its checkpoint: it is passed either way.
        if settings.diffaug.active() {
            args.extend(["--diffaug".into(), settings.diffaug.policy().into()]);
        }
        let steps = settings.steps;
        args.extend(["--steps".into(), steps.to_string().into()]);
        args.extend([
            "--batch-size".into(),
            settings.batch_size.max(1).to_string().into(),
        ]);
        // About 20 samples and 200 points per curve, whatever the length.
        args.extend([
            "--sample-every".into(),
            (steps / 20).clamp(1, 500).to_string().into(),
        ]);
        args.extend([
            "--log-every".into(),
            (steps / 200).clamp(1, 10).to_string().into(),
        ]);
        args.extend(["--device".into(), settings.device.arg().into()]);
        args.extend(["--out".into(), run_dir.clone().into()]);
        args.extend(["--events".into(), events.clone().into()]);
        args.extend(export_args(&record));
        Ok(TrainPlan {
            run_dir: run_dir.clone(),
            events,
            events_offset: 0,
            record,
            args,
        })
    })();
    if result.is_err() {
        // Only what was just created: the folder is new and ours.
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    result
}

fn export_args(record: &RunRecord) -> Vec<OsString> {
    vec![
        "--export-to".into(),
        record.export_dir.clone().into(),
        "--export-id".into(),
        record.id.clone().into(),
        "--export-name".into(),
        record.name.clone().into(),
    ]
}

/// Continues a stopped run from its checkpoint (`--resume`), exporting like it would have.
pub fn resume_plan(run_dir: &Path) -> Result<TrainPlan, TrainingError> {
    let record = RunRecord::load(run_dir)?;
    let checkpoint = run_dir.join(CHECKPOINT_FILE);
    if !checkpoint.is_file() {
        return Err(TrainingError::Run {
            path: run_dir.to_path_buf(),
            message: format!(
                "has no {CHECKPOINT_FILE} yet (it is written every 500 steps and on a stop); \
                 start a new run instead"
            ),
        });
    }
    if record
        .export_dir
        .join(crate::models::METADATA_FILE)
        .is_file()
    {
        return Err(TrainingError::Run {
            path: run_dir.to_path_buf(),
            message: format!(
                "is finished: its model is in {}",
                record.export_dir.display()
            ),
        });
    }
    let events = run_dir.join(EVENTS_FILE);
    let events_offset = std::fs::metadata(&events).map_or(0, |m| m.len());
    let mut args: Vec<OsString> = vec![
        "train".into(),
        "--out".into(),
        run_dir.into(),
        "--resume".into(),
        "--events".into(),
        events.clone().into(),
    ];
    args.extend(export_args(&record));
    Ok(TrainPlan {
        run_dir: run_dir.to_path_buf(),
        events,
        events_offset,
        record,
        args,
    })
}

/// A run folder with what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub dir: PathBuf,
    pub record: RunRecord,
    pub has_checkpoint: bool,
    /// Its model package exists.
    pub exported: bool,
    pub modified: Option<std::time::SystemTime>,
}

impl RunSummary {
    pub fn resumable(&self) -> bool {
        self.has_checkpoint && !self.exported
    }
}

/// The runs in `runs_dir` made by the app, newest first.
pub fn list_runs(runs_dir: &Path) -> Vec<RunSummary> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return Vec::new();
    };
    let mut runs: Vec<RunSummary> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|dir| {
            let record = RunRecord::load(&dir).ok()?;
            let checkpoint = dir.join(CHECKPOINT_FILE);
            Some(RunSummary {
                has_checkpoint: checkpoint.is_file(),
                exported: record
                    .export_dir
                    .join(crate::models::METADATA_FILE)
                    .is_file(),
                modified: std::fs::metadata(dir.join(EVENTS_FILE))
                    .and_then(|m| m.modified())
                    .ok(),
                record,
                dir,
            })
        })
        .collect();
    runs.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.dir.cmp(&b.dir)));
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<ClassInfo> {
        ["Sky", "Road", "Void"]
            .iter()
            .enumerate()
            .map(|(i, n)| ClassInfo {
                id: i as u8,
                name: (*n).into(),
                color: [i as u8 * 10, 0, 0],
            })
            .collect()
    }

    fn data(root: &Path) -> TrainSettings {
        std::fs::create_dir_all(root.join("data/photos")).expect("mkdir");
        std::fs::create_dir_all(root.join("data/labels")).expect("mkdir");
        let (photos, labels) = dataset_folders(&root.join("data")).expect("folders");
        TrainSettings {
            photos: Some(photos),
            labels: Some(labels),
            name: "My Streets #2".into(),
            steps: 400,
            ..TrainSettings::default()
        }
    }

    fn args_text(plan: &TrainPlan) -> String {
        plan.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A package to fine-tune from: the untrained SPADE fixture's model.json with a checkpoint
    /// file in `dir`.
    fn fine_tune_base(dir: &Path) -> ModelPackage {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/models/fixture-spade-untrained");
        let meta = ModelPackage::load(&fixture).expect("fixture package").meta;
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join(CHECKPOINT_FILE), b"x").expect("write");
        ModelPackage {
            dir: dir.to_path_buf(),
            meta,
            int8: Default::default(),
        }
    }

    #[test]
    fn ids_from_names() {
        assert_eq!(package_id("My Streets #2"), "my-streets-2");
        assert_eq!(package_id("  SPADE v1.5_tuned  "), "spade-v1.5_tuned");
        assert_eq!(package_id("Été à Paris"), "t-paris");
        assert_eq!(package_id("---"), "");
    }

    #[test]
    fn a_scratch_run_writes_its_class_file_and_record() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let settings = data(tmp.path());
        let classes = classes();
        let runs = tmp.path().join("runs");
        let models = tmp.path().join("models");
        let inputs = PlanInputs {
            base: None,
            classes: &classes,
            dontcare: Some(2),
            runs_dir: &runs,
            models_dir: &models,
            taken_ids: &[],
        };
        let plan = plan_run(&settings, &inputs).expect("plan");
        assert_eq!(plan.run_dir, runs.join("my-streets-2"));
        let text = args_text(&plan);
        for part in [
            "train --photos",
            "--preset small --generator spade --discriminator fpse --height 192 --width 256",
            "--steps 400 --batch-size 1 --sample-every 20 --log-every 2 --device auto",
            "--export-id my-streets-2 --export-name My Streets #2",
        ] {
            assert!(text.contains(part), "{part:?} missing in {text}");
        }
        assert!(!text.contains("--init-from"));
        assert!(!text.contains("--lambda-ms"), "off unless asked: {text}");
        let varied = TrainSettings {
            varied_styles: true,
            ..settings.clone()
        };
        let varied_plan = plan_run(&varied, &inputs).expect("plan");
        assert!(
            args_text(&varied_plan).contains("--lambda-ms 10 --ms-tau 0.2 --ms-pool 8 --steps"),
            "{}",
            args_text(&varied_plan)
        );
        std::fs::remove_dir_all(&varied_plan.run_dir).expect("remove");
        let class_json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(plan.run_dir.join(CLASS_FILE)).expect("class file"),
        )
        .expect("json");
        assert_eq!(class_json["dontcare"], 2);
        assert_eq!(class_json["classes"][1]["name"], "Road");
        assert_eq!(
            class_json["classes"][2]["color"],
            serde_json::json!([20, 0, 0])
        );
        assert_eq!(RunRecord::load(&plan.run_dir).expect("record"), plan.record);
        assert_eq!(plan.record.export_dir, models.join("my-streets-2"));

        // The same name again gets its own run folder.
        let again = plan_run(&settings, &inputs).expect("plan");
        assert_eq!(again.run_dir, runs.join("my-streets-2-2"));
        // A run without a checkpoint cannot be resumed; one with a checkpoint can.
        let err = resume_plan(&plan.run_dir).expect_err("no checkpoint");
        assert!(err.to_string().contains("checkpoint.pt"), "{err}");
        std::fs::write(plan.run_dir.join(CHECKPOINT_FILE), b"x").expect("write");
        std::fs::write(plan.run_dir.join(EVENTS_FILE), b"{}\n").expect("write");
        let resume = resume_plan(&plan.run_dir).expect("resume");
        assert_eq!(resume.events_offset, 3);
        assert!(args_text(&resume).contains("--resume --events"));
        assert!(args_text(&resume).contains("--export-id my-streets-2"));
        let runs_listed = list_runs(&runs);
        assert_eq!(runs_listed.len(), 2);
        assert!(
            runs_listed
                .iter()
                .any(|r| r.dir == plan.run_dir && r.resumable())
        );
    }

    #[test]
    fn bad_settings_are_refused_before_anything_is_created() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let runs = tmp.path().join("runs");
        let models = tmp.path().join("models");
        let classes = classes();
        let taken = vec!["my-streets-2".to_string()];
        let inputs = PlanInputs {
            base: None,
            classes: &classes,
            dontcare: None,
            runs_dir: &runs,
            models_dir: &models,
            taken_ids: &taken,
        };
        let good = data(tmp.path());
        let cases: Vec<(TrainSettings, &str)> = vec![
            (
                TrainSettings {
                    name: " ".into(),
                    ..good.clone()
                },
                "give the new model a name",
            ),
            (good.clone(), "exists already"),
            (
                TrainSettings {
                    name: "other".into(),
                    steps: 0,
                    ..good.clone()
                },
                "at least 1 step",
            ),
            (
                TrainSettings {
                    name: "other".into(),
                    height: 100,
                    ..good.clone()
                },
                "height 100",
            ),
            (
                TrainSettings {
                    name: "other".into(),
                    photos: None,
                    ..good.clone()
                },
                "choose the dataset folder",
            ),
            (
                TrainSettings {
                    name: "other".into(),
                    labels: Some(tmp.path().join("nope")),
                    ..good.clone()
                },
                "does not exist",
            ),
            (
                TrainSettings {
                    name: "other".into(),
                    base_model: Some("gone".into()),
                    ..good.clone()
                },
                "\"gone\" to fine-tune is not available",
            ),
            (
                TrainSettings {
                    name: "other".into(),
                    class_file: Some(tmp.path().join("c.json")),
                    ..good.clone()
                },
                "class file",
            ),
        ];
        for (settings, needle) in cases {
            let err = plan_run(&settings, &inputs).expect_err(needle);
            assert!(err.to_string().contains(needle), "{needle:?} not in {err}");
        }
        assert!(!runs.exists() || list_runs(&runs).is_empty());
        assert!(
            std::fs::read_dir(&runs).map_or(true, |mut d| d.next().is_none()),
            "a refused run left a folder"
        );
    }

    #[test]
    fn every_discriminator_can_be_chosen_for_a_scratch_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let classes = classes();
        let (runs, models) = (tmp.path().join("runs"), tmp.path().join("models"));
        let inputs = PlanInputs {
            base: None,
            classes: &classes,
            dontcare: None,
            runs_dir: &runs,
            models_dir: &models,
            taken_ids: &[],
        };
        for d in Discriminator::ALL {
            let settings = TrainSettings {
                generator: Architecture::Ccfpse,
                discriminator: *d,
                ..data(tmp.path())
            };
            let plan = plan_run(&settings, &inputs).expect("plan");
            let text = args_text(&plan);
            let want = format!("--generator ccfpse --discriminator {}", d.as_str());
            assert!(text.contains(&want), "{want:?} missing in {text}");
        }
        let oasis = TrainSettings {
            discriminator: Discriminator::Oasis,
            ..TrainSettings::default()
        };
        let json = serde_json::to_string(&oasis).expect("serialise");
        assert!(json.contains(r#""discriminator":"oasis""#), "{json}");
    }

    #[test]
    fn clade_modulation_reaches_the_trainer_for_new_spade_generators_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let classes = classes();
        let (runs, models) = (tmp.path().join("runs"), tmp.path().join("models"));
        let mut inputs = PlanInputs {
            base: None,
            classes: &classes,
            dontcare: None,
            runs_dir: &runs,
            models_dir: &models,
            taken_ids: &[],
        };
        // The default (SPADE's) is left to the trainer.
        let text = args_text(&plan_run(&data(tmp.path()), &inputs).expect("plan"));
        assert!(!text.contains("--modulation"), "{text}");
        let clade = TrainSettings {
            modulation: Modulation::Clade,
            name: "clade".into(),
            ..data(tmp.path())
        };
        let text = args_text(&plan_run(&clade, &inputs).expect("plan"));
        assert!(
            text.contains("--generator spade --modulation clade --discriminator fpse"),
            "{text}"
        );
        // CC-FPSE has no SPADE modulation to replace.
        let ccfpse = TrainSettings {
            generator: Architecture::Ccfpse,
            name: "ccfpse".into(),
            ..clade.clone()
        };
        let text = args_text(&plan_run(&ccfpse, &inputs).expect("plan"));
        assert!(!text.contains("--modulation"), "{text}");
        // A fine-tune keeps its checkpoint's architecture.
        let base = fine_tune_base(&tmp.path().join("base"));
        inputs.base = Some(&base);
        let tune = TrainSettings {
            base_model: Some(base.meta.id.clone()),
            name: "tuned".into(),
            ..clade.clone()
        };
        let text = args_text(&plan_run(&tune, &inputs).expect("plan"));
        assert!(
            text.contains("--init-from") && !text.contains("--modulation"),
            "{text}"
        );
        // Settings saved before the option load with SPADE's; CLADE is saved by its name.
        let old: TrainSettings = serde_json::from_str(r#"{"steps":5}"#).expect("load");
        assert_eq!(old.modulation, Modulation::Spade);
        let json = serde_json::to_string(&clade).expect("serialise");
        assert!(json.contains(r#""modulation":"clade""#), "{json}");
    }

    #[test]
    fn diffaugment_and_labelmix_reach_the_trainer_for_scratch_runs_and_fine_tunes() {
        assert_eq!(DiffAugment::default().policy(), trainer_defaults::DIFFAUG);
        let on = DiffAugment {
            on: true,
            ..DiffAugment::default()
        };
        assert_eq!(on.policy(), "color,translation,cutout");
        let two = DiffAugment {
            translation: false,
            ..on
        };
        assert_eq!(two.policy(), "color,cutout");
        let none = DiffAugment {
            color: false,
            translation: false,
            cutout: false,
            ..on
        };
        assert_eq!(none.policy(), "off");
        assert!(!none.active());
        // Switched off, the parts are kept for the next time.
        let off = DiffAugment { on: false, ..two };
        assert_eq!((off.policy().as_str(), off.cutout), ("off", true));

        let tmp = tempfile::tempdir().expect("tempdir");
        let classes = classes();
        let (runs, models) = (tmp.path().join("runs"), tmp.path().join("models"));
        let mut inputs = PlanInputs {
            base: None,
            classes: &classes,
            dontcare: None,
            runs_dir: &runs,
            models_dir: &models,
            taken_ids: &[],
        };
        let plain = plan_run(&data(tmp.path()), &inputs).expect("plan");
        let text = args_text(&plain);
        assert!(
            !text.contains("--diffaug") && !text.contains("--lambda-labelmix"),
            "the trainer's defaults are left to it: {text}"
        );
        let oasis = TrainSettings {
            discriminator: Discriminator::Oasis,
            diffaug: two,
            ..data(tmp.path())
        };
        let text = args_text(&plan_run(&oasis, &inputs).expect("plan"));
        assert!(
            text.contains("--discriminator oasis --height 192 --width 256 --lambda-labelmix 10 --diffaug color,cutout --steps"),
            "{text}"
        );
        let half = TrainSettings {
            labelmix_weight: 2.5,
            ..oasis.clone()
        };
        assert!(
            args_text(&plan_run(&half, &inputs).expect("plan")).contains("--lambda-labelmix 2.5")
        );
        // LabelMix is OASIS's: another discriminator gets no weight.
        let fpse = TrainSettings {
            discriminator: Discriminator::Fpse,
            ..half.clone()
        };
        let text = args_text(&plan_run(&fpse, &inputs).expect("plan"));
        assert!(
            !text.contains("--lambda-labelmix") && text.contains("--diffaug color,cutout"),
            "{text}"
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let settings = TrainSettings {
                labelmix_weight: bad,
                name: "bad labelmix".into(),
                ..oasis.clone()
            };
            let err = plan_run(&settings, &inputs).expect_err("a bad weight");
            assert!(err.to_string().contains("LabelMix weight"), "{err}");
        }

        // A fine-tune passes DiffAugment (it is not inherited) but keeps the base's LabelMix.
        let base = fine_tune_base(&tmp.path().join("base"));
        inputs.base = Some(&base);
        let tune = TrainSettings {
            base_model: Some(base.meta.id.clone()),
            name: "tuned".into(),
            ..oasis.clone()
        };
        let plan = plan_run(&tune, &inputs).expect("plan");
        let text = args_text(&plan);
        assert!(
            text.contains("--train-preset finetune --diffaug color,cutout --steps"),
            "{text}"
        );
        assert!(
            !text.contains("--lambda-labelmix") && !text.contains("--discriminator"),
            "{text}"
        );
        // Resuming keeps the run's own choice, which the trainer reads from its checkpoint.
        std::fs::write(plan.run_dir.join(CHECKPOINT_FILE), b"x").expect("write");
        let resume = args_text(&resume_plan(&plan.run_dir).expect("resume"));
        assert!(
            !resume.contains("--diffaug") && !resume.contains("--lambda-labelmix"),
            "{resume}"
        );
    }

    /// The trainer's defaults as its config.py states them (`name: type = value` lines).
    fn python_default(config: &str, name: &str) -> String {
        config
            .lines()
            .map(str::trim)
            .find_map(|l| {
                let (field, rest) = l.split_once(':')?;
                (field == name).then(|| rest.split_once('=')).flatten()
            })
            .map(|(_, v)| {
                v.split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
            .unwrap_or_else(|| panic!("config.py states no default for {name}"))
    }

    #[test]
    fn the_trainer_defaults_match_its_config() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("trainer/scenebrush_trainer/training/config.py");
        let config = std::fs::read_to_string(&path).expect("the trainer's config.py");
        let d = TrainSettings::default();
        for (name, ours) in [
            ("generator", d.generator.as_str().to_string()),
            ("modulation", d.modulation.arg().to_string()),
            ("discriminator", d.discriminator.as_str().to_string()),
            ("height", d.height.to_string()),
            ("width", d.width.to_string()),
            ("steps", d.steps.to_string()),
            ("batch_size", d.batch_size.to_string()),
            ("ms_tau", trainer_defaults::MS_TAU.to_string()),
            ("ms_pool", trainer_defaults::MS_POOL.to_string()),
            ("diffaug", trainer_defaults::DIFFAUG.to_string()),
            ("diffaug", d.diffaug.policy()),
            // Python writes a float with its point: 10.0.
            (
                "lambda_labelmix",
                format!("{:?}", trainer_defaults::LAMBDA_LABELMIX),
            ),
            ("lambda_labelmix", format!("{:?}", d.labelmix_weight)),
        ] {
            assert_eq!(python_default(&config, name), ours, "{name}");
        }
        let command = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("trainer/scenebrush_trainer/commands/train.py"),
        )
        .expect("the trainer's train command");
        for (flag, ours) in [("--preset", d.preset.arg()), ("--device", d.device.arg())] {
            let line = command
                .lines()
                .find(|l| l.contains(&format!("\"{flag}\"")))
                .unwrap_or_else(|| panic!("no {flag} in train.py"));
            assert!(
                line.contains(&format!("default=\"{ours}\"")),
                "{flag}: {line}"
            );
        }
    }

    #[test]
    fn epochs_and_steps_convert() {
        let s = TrainSettings {
            steps: 734,
            batch_size: 2,
            ..TrainSettings::default()
        };
        assert!((s.epochs(367) - 4.0).abs() < 1e-9);
        assert_eq!(s.steps_for_epochs(4.0, 367), 734);
        assert_eq!(s.steps_for_epochs(0.0, 367), 1);
        assert_eq!(s.epochs(0), 0.0);
    }
}
