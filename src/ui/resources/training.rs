//! The Train tab's resources: the trainer process of the run on screen, the dataset check, the
//! environment setup and the earlier runs. The processes are read on threads
//! (`crate::training`), so nothing here waits for the trainer.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use crate::training::{
    CheckReport, ExitInfo, RunProgress, RunSummary, TrainPlan, TrainerProcess, TrainerSetup,
    find_trainer, list_runs, user_runs_dir,
};

/// The latest sample grid of a run (the view layer keeps its texture).
pub struct Sample {
    pub step: u64,
    pub path: PathBuf,
    pub image: image::RgbaImage,
}

impl Sample {
    /// Width and height in pixels.
    pub fn size(&self) -> [usize; 2] {
        [self.image.width() as usize, self.image.height() as usize]
    }
}

/// The run shown in the Train tab (live, or ended).
pub struct ActiveRun {
    pub plan: TrainPlan,
    pub process: Option<TrainerProcess>,
    pub progress: RunProgress,
    pub sample: Option<Sample>,
    /// The export was registered (the compare view opens once).
    pub export_handled: bool,
}

impl ActiveRun {
    /// The trainer process is still running.
    pub fn is_live(&self) -> bool {
        self.process.as_ref().is_some_and(|p| !p.has_exited())
    }
}

/// The dataset check (`check --json`) of the Train tab.
pub enum CheckState {
    Running {
        rx: Receiver<Result<CheckReport, String>>,
        /// The class file written for the check lives here until it ends.
        _class_dir: Option<tempfile::TempDir>,
    },
    Done(CheckReport),
    Failed(String),
}

/// `scripts/setup.sh` running from the tab, with its output.
pub struct SetupJob {
    pub process: TrainerProcess,
    pub log: VecDeque<String>,
    pub exit: Option<ExitInfo>,
}

pub struct TrainingRuntime {
    /// How the trainer runs here (or why it cannot).
    pub setup: TrainerSetup,
    /// Where new runs go (per-user data folder).
    pub runs_dir: Option<PathBuf>,
    /// Where finished runs export their model package (the per-user models folder).
    pub models_dir: Option<PathBuf>,
    pub run: Option<ActiveRun>,
    pub check: Option<CheckState>,
    pub setup_job: Option<SetupJob>,
    /// Runs in `runs_dir`, refreshed when a run starts or ends and on request.
    pub runs: Vec<RunSummary>,
    /// Why the last Start or Resume was refused.
    pub message: Option<String>,
}

impl Default for TrainingRuntime {
    fn default() -> Self {
        Self::new(
            find_trainer(),
            user_runs_dir(),
            crate::models::user_models_dir(),
        )
    }
}

impl TrainingRuntime {
    pub fn new(
        setup: TrainerSetup,
        runs_dir: Option<PathBuf>,
        models_dir: Option<PathBuf>,
    ) -> Self {
        let runs = runs_dir.as_deref().map(list_runs).unwrap_or_default();
        Self {
            setup,
            runs_dir,
            models_dir,
            run: None,
            check: None,
            setup_job: None,
            runs,
            message: None,
        }
    }

    /// The run on screen (live or ended).
    pub fn run(&self) -> Option<&ActiveRun> {
        self.run.as_ref()
    }

    /// Why the last Start or Resume was refused.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// How the trainer runs here (or why it cannot).
    pub fn setup(&self) -> &TrainerSetup {
        &self.setup
    }

    /// The environment setup started from the tab.
    pub fn setup_job(&self) -> Option<&SetupJob> {
        self.setup_job.as_ref()
    }

    /// A run is being trained.
    pub fn is_training(&self) -> bool {
        self.run.as_ref().is_some_and(ActiveRun::is_live)
    }

    pub fn refresh_runs(&mut self) {
        self.runs = self.runs_dir.as_deref().map(list_runs).unwrap_or_default();
    }

    /// The pairs the last check (or the run) found.
    pub fn pairs(&self) -> Option<u64> {
        match &self.check {
            Some(CheckState::Done(r)) if r.ok => Some(r.pairs),
            _ => self
                .run
                .as_ref()
                .and_then(|r| r.progress.check.as_ref().map(|c| c.pairs)),
        }
    }

    /// The dataset check has reported (with or without problems).
    pub fn check_done(&self) -> bool {
        matches!(self.check, Some(CheckState::Done(_)))
    }

    /// The dataset check is running.
    pub fn checking(&self) -> bool {
        matches!(self.check, Some(CheckState::Running { .. }))
    }

    /// The environment setup is running.
    pub fn setting_up(&self) -> bool {
        self.setup_job.as_ref().is_some_and(|j| j.exit.is_none())
    }
}

impl Drop for TrainingRuntime {
    /// Closing the app stops a run gracefully: the trainer checkpoints and it can be resumed.
    fn drop(&mut self) {
        if let Some(process) = self.run.as_ref().and_then(|r| r.process.as_ref())
            && !process.has_exited()
            && let Err(e) = process.stop()
        {
            tracing::warn!("{e}");
        }
    }
}
