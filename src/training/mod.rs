//! Training mode: the bundled PyTorch trainer run as a child process, its JSON-lines progress
//! events, and the plan (arguments, run folder, class file) of a run.
mod events;
mod plan;
mod process;
mod progress;

use std::path::PathBuf;

pub use events::{CheckReport, DataProblem, EventParseError, TrainerEvent, parse_event};
pub use plan::{
    CHECKPOINT_FILE, CLASS_FILE, DiffAugment, EVENTS_FILE, MODE_SEEKING, ModelPreset, Modulation,
    PlanInputs, RUN_RECORD_FILE, RunRecord, RunSummary, TrainDevice, TrainPlan, TrainSettings,
    base_checkpoint, class_file_for, data_args, dataset_folders, list_runs, package_id, plan_run,
    resume_plan, trainer_defaults, user_runs_dir, write_class_file,
};
pub use process::{
    EventSource, TRAINER_ENV, TrainerLauncher, TrainerMessage, TrainerProcess, TrainerSetup,
    find_trainer, run_check, venv_python,
};
pub use progress::{
    COMPILING_TEXT, ExitInfo, MAX_LOG_LINES, RunProgress, RunRecipe, RunStatus, duration_text,
};

/// Size of the download `scripts/setup.sh` makes for the trainer's environment.
pub const SETUP_DOWNLOAD: &str = "about 3 GB (PyTorch)";

/// Training errors; each says what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrainingError {
    #[error(
        "the trainer's Python environment is missing ({}); create it with scripts/setup.sh \
         (downloads {SETUP_DOWNLOAD})", .0.display()
    )]
    NoEnvironment(PathBuf),
    #[error(
        "the bundled trainer was not found (looked in {}); run SceneBrush from its project folder, \
         or set {} to a program that runs `python -m scenebrush_trainer`",
        .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        process::TRAINER_ENV
    )]
    TrainerNotFound { searched: Vec<PathBuf> },
    #[error("cannot start `{command}`: {message}")]
    Spawn { command: String, message: String },
    #[error("cannot signal the trainer (process {pid}): {message}")]
    Signal { pid: u32, message: String },
    #[error("{message}")]
    Trainer { message: String },
    #[error("{0}")]
    Settings(String),
    #[error("cannot write {}: {message}", .path.display())]
    Write { path: PathBuf, message: String },
    #[error("the run {} {message}", .path.display())]
    Run { path: PathBuf, message: String },
}
