//! Runtime side of the Train tab: the trainer process of the run on screen, the dataset check,
//! the environment setup, and carrying out the tab's commands. The process is read on threads
//! (crate::training), so nothing here waits for the trainer.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::training::{
    CheckReport, EventSource, ExitInfo, PlanInputs, RunProgress, RunStatus, RunSummary, TrainPlan,
    TrainerLauncher, TrainerMessage, TrainerProcess, TrainerSetup, class_file_for, data_args,
    dataset_folders, find_trainer, list_runs, plan_run, resume_plan, run_check, user_runs_dir,
};

use super::command::{TrainCommand, TrainPick};
use super::runtime::{DialogPurpose, Runtime};
use super::state::AppState;

/// The latest sample grid of a run, as a texture.
pub struct SampleView {
    pub step: u64,
    pub path: PathBuf,
    pub size: [usize; 2],
    pub texture: egui::TextureHandle,
}

/// The run shown in the Train tab (live, or ended).
pub struct ActiveRun {
    pub plan: TrainPlan,
    pub process: Option<TrainerProcess>,
    pub progress: RunProgress,
    pub sample: Option<SampleView>,
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
    /// The loss plot's bounds in the last frame: (min, max) of (step, loss).
    pub plot_bounds: Option<([f64; 2], [f64; 2])>,
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
            plot_bounds: None,
        }
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

/// What happened in [`poll_training`] that the app must act on.
#[derive(Debug, Default)]
pub struct TrainingUpdate {
    /// A package was exported at this folder (register it, open the compare view).
    pub exported: Option<(PathBuf, Option<String>)>,
    pub changed: bool,
}

/// Reads what the trainer, the check and the setup job reported since the last frame.
pub fn poll_training(ctx: &egui::Context, training: &mut TrainingRuntime) -> TrainingUpdate {
    let mut update = TrainingUpdate::default();
    if let Some(run) = &mut training.run {
        while let Some(message) = run.process.as_mut().and_then(TrainerProcess::try_recv) {
            update.changed = true;
            match message {
                TrainerMessage::Event(event) => run.progress.apply(&event),
                TrainerMessage::Log(line) | TrainerMessage::Output(line) => {
                    run.progress.push_log(line);
                }
                TrainerMessage::BadEvent { line, error } => {
                    run.progress
                        .push_log(format!("unreadable event ({error}): {line}"));
                }
                TrainerMessage::SampleImage { step, path, image } => match image {
                    Ok(image) => {
                        let size = [image.width() as usize, image.height() as usize];
                        let color = egui::ColorImage::from_rgba_unmultiplied(size, image.as_raw());
                        let texture = ctx.load_texture(
                            "training-sample",
                            color,
                            egui::TextureOptions::LINEAR,
                        );
                        run.sample = Some(SampleView {
                            step,
                            path,
                            size,
                            texture,
                        });
                    }
                    Err(e) => run.progress.push_log(e),
                },
                TrainerMessage::Exited(exit) => {
                    run.progress.exited(exit);
                    training.runs = training
                        .runs_dir
                        .as_deref()
                        .map(list_runs)
                        .unwrap_or_default();
                }
            }
        }
        if let RunStatus::Exported { path, .. } = &run.progress.status
            && !run.export_handled
        {
            run.export_handled = true;
            update.exported = Some((path.clone(), run.plan.record.base_model.clone()));
        }
    }
    if let Some(CheckState::Running { rx, .. }) = &training.check {
        let done = match rx.try_recv() {
            Ok(Ok(report)) => Some(CheckState::Done(report)),
            Ok(Err(message)) => Some(CheckState::Failed(message)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(CheckState::Failed(
                "the dataset check stopped unexpectedly".into(),
            )),
        };
        if let Some(done) = done {
            training.check = Some(done);
            update.changed = true;
        }
    }
    let mut setup_done = false;
    if let Some(job) = &mut training.setup_job {
        while let Some(message) = job.process.try_recv() {
            update.changed = true;
            match message {
                TrainerMessage::Log(line) | TrainerMessage::Output(line) => {
                    job.log.push_back(line);
                    while job.log.len() > crate::training::MAX_LOG_LINES {
                        job.log.pop_front();
                    }
                }
                TrainerMessage::Exited(exit) => {
                    job.exit = Some(exit);
                    setup_done = exit.success();
                }
                _ => {}
            }
        }
    }
    if setup_done {
        training.setup = find_trainer();
    }
    update
}

/// Carries out a command of the Train tab.
pub fn apply_train_command(
    ctx: &egui::Context,
    command: TrainCommand,
    state: &mut AppState,
    rt: &mut Runtime,
) {
    match command {
        TrainCommand::Set(settings) => {
            if settings.photos != state.train.photos
                || settings.labels != state.train.labels
                || settings.class_file != state.train.class_file
            {
                // The old check does not describe the new data.
                rt.training.check = None;
            }
            state.train = settings;
        }
        TrainCommand::Pick(pick) => {
            super::files::start_dialog(DialogPurpose::Train(pick), state, rt);
        }
        TrainCommand::Picked(pick, path) => {
            let train = &mut state.train;
            match pick {
                TrainPick::Dataset => match dataset_folders(&path) {
                    Some((photos, labels)) => {
                        train.photos = Some(photos);
                        train.labels = Some(labels);
                    }
                    None => {
                        // A folder of photos alone: the labels are picked separately.
                        train.photos = Some(path);
                        rt.training.message = Some(
                            "That folder has no photos/ and labels/ subfolders: it is used as \
                             the photos folder; choose the label maps folder too."
                                .into(),
                        );
                    }
                },
                TrainPick::Photos => train.photos = Some(path),
                TrainPick::Labels => train.labels = Some(path),
                TrainPick::ClassFile => train.class_file = Some(path),
            }
            rt.training.check = None;
        }
        TrainCommand::Check => start_check(state, rt),
        TrainCommand::Start => start_run(ctx, state, rt),
        TrainCommand::Resume(dir) => resume_run(ctx, &dir, state, rt),
        TrainCommand::Stop => {
            if let Some(run) = &mut rt.training.run
                && let Some(process) = &run.process
                && !process.has_exited()
            {
                match process.stop() {
                    Ok(()) => {
                        run.progress.status = RunStatus::Stopping;
                        run.progress.push_log(
                            "stop requested: the trainer finishes its step and saves a checkpoint",
                        );
                    }
                    Err(e) => rt.show_error("Cannot stop the training", e.to_string()),
                }
            }
        }
        TrainCommand::CloseRun => {
            if !rt.training.is_training() {
                rt.training.run = None;
            }
        }
        TrainCommand::RunSetup => start_setup(ctx, rt),
        TrainCommand::RefreshRuns => rt.training.refresh_runs(),
    }
}

/// The plan inputs from the registry and the canvas.
fn with_inputs<R>(
    state: &AppState,
    rt: &Runtime,
    f: impl FnOnce(&PlanInputs) -> Result<R, String>,
) -> Result<R, String> {
    let training = &rt.training;
    let runs_dir = training.runs_dir.as_deref().ok_or(
        "this system has no per-user data folder for training runs (the home folder is unknown)",
    )?;
    let models_dir = training
        .models_dir
        .as_deref()
        .ok_or("this system has no per-user models folder (the home folder is unknown)")?;
    let base = state
        .train
        .base_model
        .as_deref()
        .and_then(|id| rt.package(id));
    let taken: Vec<String> = rt.registry.entries.iter().map(|e| e.id.clone()).collect();
    let inputs = PlanInputs {
        base,
        classes: &rt.doc.classes,
        dontcare: rt.doc.dontcare,
        runs_dir,
        models_dir,
        taken_ids: &taken,
    };
    f(&inputs)
}

fn start_check(state: &AppState, rt: &mut Runtime) {
    if matches!(rt.training.check, Some(CheckState::Running { .. })) {
        return;
    }
    let launcher = match rt.training.setup.launcher() {
        Ok(l) => l.clone(),
        Err(e) => {
            rt.training.check = Some(CheckState::Failed(e.to_string()));
            return;
        }
    };
    let prepared = with_inputs(state, rt, |inputs| {
        let dir =
            tempfile::tempdir().map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let class_file = class_file_for(&state.train, inputs, &dir.path().join("classes.json"))
            .map_err(|e| e.to_string())?;
        let args = data_args(&state.train, &class_file).map_err(|e| e.to_string())?;
        Ok((dir, args))
    });
    let (dir, args) = match prepared {
        Ok(p) => p,
        Err(e) => {
            rt.training.check = Some(CheckState::Failed(e));
            return;
        }
    };
    rt.training.check = Some(spawn_check(launcher, args, Some(dir)));
}

fn spawn_check(
    launcher: TrainerLauncher,
    args: Vec<OsString>,
    class_dir: Option<tempfile::TempDir>,
) -> CheckState {
    let (tx, rx) = channel();
    let spawned = std::thread::Builder::new()
        .name("dataset-check".into())
        .spawn(move || {
            let _ = tx.send(run_check(&launcher, &args).map_err(|e| e.to_string()));
        });
    match spawned {
        Ok(_) => CheckState::Running {
            rx,
            _class_dir: class_dir,
        },
        Err(e) => CheckState::Failed(format!("cannot start the dataset check: {e}")),
    }
}

fn launch(ctx: &egui::Context, plan: TrainPlan, state: &mut AppState, rt: &mut Runtime) {
    let launcher = match rt.training.setup.launcher() {
        Ok(l) => l.clone(),
        Err(e) => {
            rt.training.message = Some(e.to_string());
            return;
        }
    };
    let source = EventSource::File {
        path: plan.events.clone(),
        offset: plan.events_offset,
    };
    match TrainerProcess::spawn(&launcher, &plan.args, source) {
        Ok(process) => {
            let repaint = ctx.clone();
            process.set_wake(move || repaint.request_repaint());
            let mut progress = RunProgress {
                steps: plan.record.steps,
                ..RunProgress::default()
            };
            progress.push_log(format!("$ {}", process.command_line));
            state.train.last_run = Some(plan.run_dir.clone());
            rt.training.message = None;
            rt.training.plot_bounds = None;
            rt.training.run = Some(ActiveRun {
                plan,
                process: Some(process),
                progress,
                sample: None,
                export_handled: false,
            });
            rt.training.refresh_runs();
        }
        Err(e) => rt.training.message = Some(e.to_string()),
    }
}

fn start_run(ctx: &egui::Context, state: &mut AppState, rt: &mut Runtime) {
    if rt.training.is_training() {
        return;
    }
    if let Err(e) = rt.training.setup.launcher() {
        rt.training.message = Some(e.to_string());
        return;
    }
    match with_inputs(state, rt, |inputs| {
        plan_run(&state.train, inputs).map_err(|e| e.to_string())
    }) {
        Ok(plan) => launch(ctx, plan, state, rt),
        Err(e) => rt.training.message = Some(e),
    }
}

fn resume_run(ctx: &egui::Context, dir: &Path, state: &mut AppState, rt: &mut Runtime) {
    if rt.training.is_training() {
        return;
    }
    match resume_plan(dir) {
        Ok(mut plan) => {
            // Keep the curves of the stopped run: the resumed one continues them. A run not on
            // screen (after a restart) replays its events file from the start instead.
            let previous = rt
                .training
                .run
                .take()
                .filter(|r| r.plan.run_dir == plan.run_dir);
            if previous.is_none() {
                plan.events_offset = 0;
            }
            launch(ctx, plan, state, rt);
            if let (Some(previous), Some(run)) = (previous, &mut rt.training.run) {
                run.progress.losses = previous.progress.losses;
                run.sample = previous.sample;
                run.progress.step = previous.progress.step;
            }
        }
        Err(e) => rt.training.message = Some(e.to_string()),
    }
}

fn start_setup(ctx: &egui::Context, rt: &mut Runtime) {
    if rt
        .training
        .setup_job
        .as_ref()
        .is_some_and(|j| j.exit.is_none())
    {
        return;
    }
    let TrainerSetup::NoEnvironment {
        root, setup_script, ..
    } = &rt.training.setup
    else {
        return;
    };
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(setup_script).current_dir(root);
    let line = format!("bash {}", setup_script.display());
    match TrainerProcess::spawn_command(&mut cmd, line.clone(), EventSource::None) {
        Ok(process) => {
            let repaint = ctx.clone();
            process.set_wake(move || repaint.request_repaint());
            rt.training.setup_job = Some(SetupJob {
                process,
                log: VecDeque::from([format!("$ {line}")]),
                exit: None,
            });
        }
        Err(e) => rt.training.message = Some(e.to_string()),
    }
}
