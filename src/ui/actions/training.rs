//! Carrying out the Train tab's commands, and reading what the trainer, the dataset check and
//! the environment setup reported since the last frame.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{TryRecvError, channel};

use crate::training::{
    EventSource, PlanInputs, RunProgress, RunStatus, TrainPlan, TrainerLauncher, TrainerMessage,
    TrainerProcess, TrainerSetup, class_file_for, data_args, dataset_folders, find_trainer,
    list_runs, plan_run, resume_plan, run_check,
};
use crate::ui::resources::{
    ActiveRun, CheckState, DialogPurpose, Resources, Sample, SetupJob, TrainingRuntime, Waker,
};
use crate::ui::state::{AppState, TrainCommand, TrainPick};

/// What happened in [`poll_training`] that the app must act on.
#[derive(Debug, Default)]
pub struct TrainingUpdate {
    /// A package was exported at this folder (register it, open the compare view).
    pub exported: Option<(PathBuf, Option<String>)>,
    pub changed: bool,
}

/// Reads what the trainer, the check and the setup job reported since the last frame.
pub fn poll_training(training: &mut TrainingRuntime) -> TrainingUpdate {
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
                    Ok(image) => run.sample = Some(Sample { step, path, image }),
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
pub fn apply_train_command(command: TrainCommand, state: &mut AppState, res: &mut Resources) {
    match command {
        TrainCommand::Set(settings) => {
            if settings.photos != state.train.photos
                || settings.labels != state.train.labels
                || settings.class_file != state.train.class_file
            {
                // The old check does not describe the new data.
                res.training.check = None;
            }
            state.train = settings;
        }
        TrainCommand::Pick(pick) => {
            super::files::start_dialog(DialogPurpose::Train(pick), state, res);
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
                        res.training.message = Some(
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
            res.training.check = None;
        }
        TrainCommand::Check => start_check(state, res),
        TrainCommand::Start => start_run(state, res),
        TrainCommand::Resume(dir) => resume_run(&dir, state, res),
        TrainCommand::Stop => {
            if let Some(run) = &mut res.training.run
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
                    Err(e) => res
                        .messages
                        .show_error("Cannot stop the training", e.to_string()),
                }
            }
        }
        TrainCommand::CloseRun => {
            if !res.training.is_training() {
                res.training.run = None;
            }
        }
        TrainCommand::RunSetup => start_setup(res),
        TrainCommand::RefreshRuns => res.training.refresh_runs(),
    }
}

/// The plan inputs from the registry and the canvas.
fn with_inputs<R>(
    state: &AppState,
    res: &Resources,
    f: impl FnOnce(&PlanInputs) -> Result<R, String>,
) -> Result<R, String> {
    let training = &res.training;
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
        .and_then(|id| res.models.package(id));
    let taken: Vec<String> = res
        .models
        .registry
        .entries
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let inputs = PlanInputs {
        base,
        classes: &res.doc.classes,
        dontcare: res.doc.dontcare,
        runs_dir,
        models_dir,
        taken_ids: &taken,
    };
    f(&inputs)
}

fn start_check(state: &AppState, res: &mut Resources) {
    if matches!(res.training.check, Some(CheckState::Running { .. })) {
        return;
    }
    let launcher = match res.training.setup.launcher() {
        Ok(l) => l.clone(),
        Err(e) => {
            res.training.check = Some(CheckState::Failed(e.to_string()));
            return;
        }
    };
    let prepared = with_inputs(state, res, |inputs| {
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
            res.training.check = Some(CheckState::Failed(e));
            return;
        }
    };
    res.training.check = Some(spawn_check(launcher, args, Some(dir)));
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

/// Lets a process ask for a frame when it reports.
fn wake_on_report(process: &TrainerProcess, waker: Option<&Waker>) {
    if let Some(waker) = waker.cloned() {
        process.set_wake(move || waker());
    }
}

fn launch(plan: TrainPlan, state: &mut AppState, res: &mut Resources) {
    let launcher = match res.training.setup.launcher() {
        Ok(l) => l.clone(),
        Err(e) => {
            res.training.message = Some(e.to_string());
            return;
        }
    };
    let source = EventSource::File {
        path: plan.events.clone(),
        offset: plan.events_offset,
    };
    match TrainerProcess::spawn(&launcher, &plan.args, source) {
        Ok(process) => {
            wake_on_report(&process, res.waker.as_ref());
            let mut progress = RunProgress {
                steps: plan.record.steps,
                ..RunProgress::default()
            };
            progress.push_log(format!("$ {}", process.command_line));
            state.train.last_run = Some(plan.run_dir.clone());
            res.training.message = None;
            res.training.run = Some(ActiveRun {
                plan,
                process: Some(process),
                progress,
                sample: None,
                export_handled: false,
            });
            res.training.refresh_runs();
        }
        Err(e) => res.training.message = Some(e.to_string()),
    }
}

fn start_run(state: &mut AppState, res: &mut Resources) {
    if res.training.is_training() {
        return;
    }
    if let Err(e) = res.training.setup.launcher() {
        res.training.message = Some(e.to_string());
        return;
    }
    match with_inputs(state, res, |inputs| {
        plan_run(&state.train, inputs).map_err(|e| e.to_string())
    }) {
        Ok(plan) => launch(plan, state, res),
        Err(e) => res.training.message = Some(e),
    }
}

fn resume_run(dir: &Path, state: &mut AppState, res: &mut Resources) {
    if res.training.is_training() {
        return;
    }
    match resume_plan(dir) {
        Ok(mut plan) => {
            // Keep the curves of the stopped run: the resumed one continues them. A run not on
            // screen (after a restart) replays its events file from the start instead.
            let previous = res
                .training
                .run
                .take()
                .filter(|r| r.plan.run_dir == plan.run_dir);
            if previous.is_none() {
                plan.events_offset = 0;
            }
            launch(plan, state, res);
            if let (Some(previous), Some(run)) = (previous, &mut res.training.run) {
                run.progress.losses = previous.progress.losses;
                run.sample = previous.sample;
                run.progress.step = previous.progress.step;
            }
        }
        Err(e) => res.training.message = Some(e.to_string()),
    }
}

fn start_setup(res: &mut Resources) {
    if res.training.setting_up() {
        return;
    }
    let TrainerSetup::NoEnvironment {
        root, setup_script, ..
    } = &res.training.setup
    else {
        return;
    };
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(setup_script).current_dir(root);
    let line = format!("bash {}", setup_script.display());
    match TrainerProcess::spawn_command(&mut cmd, line.clone(), EventSource::None) {
        Ok(process) => {
            wake_on_report(&process, res.waker.as_ref());
            res.training.setup_job = Some(SetupJob {
                process,
                log: VecDeque::from([format!("$ {line}")]),
                exit: None,
            });
        }
        Err(e) => res.training.message = Some(e.to_string()),
    }
}
