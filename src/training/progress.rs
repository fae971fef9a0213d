//! What a training run has reported so far, built from its events: the live view's data.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use super::events::{CheckReport, TrainerEvent};

/// Log lines kept for the log pane (the oldest are dropped).
pub const MAX_LOG_LINES: usize = 2000;

/// What a run does between a `start` event with `train.compile` and its first step, when the
/// trainer prints nothing.
pub const COMPILING_TEXT: &str = "Compiling the networks before the first step (torch.compile: \
                                  10-17 minutes measured on a 2-core CPU, then faster steps)";

/// Where a run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// The process is starting (Python imports PyTorch, the data is checked).
    Starting,
    Running,
    /// A stop was asked for; the trainer finishes its step and writes a checkpoint.
    Stopping,
    /// Stopped with a checkpoint; it can be resumed.
    Stopped {
        reason: String,
        checkpoint: Option<PathBuf>,
    },
    /// All steps done (the package export may follow).
    Finished,
    /// The model package is written.
    Exported {
        id: String,
        path: PathBuf,
    },
    /// The trainer reported an error or died.
    Failed {
        message: String,
    },
}

impl RunStatus {
    /// The process has ended (or will without further work).
    pub fn is_over(&self) -> bool {
        matches!(
            self,
            RunStatus::Stopped { .. } | RunStatus::Exported { .. } | RunStatus::Failed { .. }
        )
    }
}

/// How the trainer process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    pub code: Option<i32>,
    /// The signal that killed it (Unix).
    pub signal: Option<i32>,
}

impl ExitInfo {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The exit status as a shell reports it (128 + signal when killed).
    pub fn shell_code(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(code), _) => code,
            (None, Some(signal)) => 128 + signal,
            (None, None) => 1,
        }
    }
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit status {code}"),
            (None, Some(signal)) => write!(f, "killed by signal {signal}"),
            (None, None) => write!(f, "an unknown exit status"),
        }
    }
}

/// The run's choices that its `start` event reports (from its checkpoint, when resumed), which
/// the settings on screen may no longer show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecipe {
    /// `model.discriminator` ("fpse", "oasis").
    pub discriminator: Option<String>,
    /// `train.diffaug` ("off", "color,translation").
    pub diffaug: Option<String>,
    /// `train.lambda_labelmix` (counts with OASIS only).
    pub lambda_labelmix: Option<f64>,
}

impl RunRecipe {
    /// From a `start` event's `model` and `train` objects (missing fields stay `None`).
    pub fn from_start(model: &serde_json::Value, train: &serde_json::Value) -> Self {
        Self {
            discriminator: model["discriminator"].as_str().map(str::to_string),
            diffaug: train["diffaug"].as_str().map(str::to_string),
            lambda_labelmix: train["lambda_labelmix"].as_f64(),
        }
    }

    /// What sets the run apart, for the run view: "OASIS discriminator, LabelMix weight 10",
    /// "DiffAugment color,translation" (nothing for DiffAugment off).
    pub fn facts(&self) -> Vec<String> {
        let mut facts = Vec::new();
        if let Some(d) = &self.discriminator {
            let oasis = d == crate::models::Discriminator::Oasis.as_str();
            let name = d.parse::<crate::models::Discriminator>().map_or_else(
                |_| format!("{d} discriminator"),
                |d| d.caption().to_string(),
            );
            match self.lambda_labelmix.filter(|_| oasis) {
                Some(w) => facts.push(format!("{name}, LabelMix weight {w}")),
                None => facts.push(name),
            }
        }
        if let Some(policy) = self
            .diffaug
            .as_deref()
            .filter(|p| *p != super::plan::trainer_defaults::DIFFAUG)
        {
            facts.push(format!("DiffAugment {policy}"));
        }
        facts
    }
}

/// The live state of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunProgress {
    pub status: RunStatus,
    pub step: u64,
    pub steps: u64,
    pub epoch: Option<f64>,
    pub images_per_s: Option<f64>,
    pub eta_s: Option<f64>,
    pub lr_g: Option<f64>,
    pub device: Option<String>,
    pub images: Option<u64>,
    /// The discriminator and recipe the latest `start` event reported.
    pub recipe: RunRecipe,
    /// The latest start compiles the networks (`train.compile`, or a `compile` event) and no
    /// step has been reported since: see [`RunProgress::compiling`].
    pub compile_pending: bool,
    /// The `compile` event's `note`, if any.
    pub compile_note: Option<String>,
    /// Loss name -> (step, value), in the order reported.
    pub losses: BTreeMap<String, Vec<[f64; 2]>>,
    pub check: Option<CheckReport>,
    /// The latest sample grid.
    pub sample: Option<(u64, PathBuf)>,
    pub checkpoint: Option<PathBuf>,
    pub log: VecDeque<String>,
    pub exit: Option<ExitInfo>,
}

impl Default for RunProgress {
    fn default() -> Self {
        Self {
            status: RunStatus::Starting,
            step: 0,
            steps: 0,
            epoch: None,
            images_per_s: None,
            eta_s: None,
            lr_g: None,
            device: None,
            images: None,
            recipe: RunRecipe::default(),
            compile_pending: false,
            compile_note: None,
            losses: BTreeMap::new(),
            check: None,
            sample: None,
            checkpoint: None,
            log: VecDeque::new(),
            exit: None,
        }
    }
}

impl RunProgress {
    /// Takes in one event.
    pub fn apply(&mut self, event: &TrainerEvent) {
        match event {
            TrainerEvent::Check(report) => {
                self.check = Some(report.clone());
                if !report.ok {
                    let first = report
                        .problems
                        .first()
                        .map_or_else(String::new, |p| format!(": {}", p.message));
                    self.status = RunStatus::Failed {
                        message: format!(
                            "the dataset check found {} problem{}{first}",
                            report.problems.len(),
                            if report.problems.len() == 1 { "" } else { "s" }
                        ),
                    };
                }
            }
            TrainerEvent::Start {
                step,
                steps,
                device,
                images,
                model,
                train,
                ..
            } => {
                // A resumed run appends to the same events file: its new start supersedes the
                // earlier stop.
                self.status = RunStatus::Running;
                self.exit = None;
                self.step = *step;
                self.steps = *steps;
                self.device.clone_from(device);
                self.images = *images;
                self.recipe = RunRecipe::from_start(model, train);
                self.eta_s = None;
                // Each start says afresh whether it compiles (a resumed run may not).
                self.compile_pending = train["compile"].as_bool() == Some(true);
                self.compile_note = None;
                // Curves beyond a resume point came from steps that were redone.
                for points in self.losses.values_mut() {
                    points.retain(|p| p[0] <= *step as f64);
                }
            }
            TrainerEvent::Compile { phase, note, .. } => {
                if phase == "start" {
                    self.compile_pending = true;
                    self.compile_note.clone_from(note);
                }
            }
            TrainerEvent::Step {
                step,
                steps,
                epoch,
                losses,
                lr_g,
                images_per_s,
                eta_s,
            } => {
                if matches!(self.status, RunStatus::Starting) {
                    self.status = RunStatus::Running;
                }
                self.compile_pending = false;
                self.step = *step;
                self.steps = *steps;
                self.epoch = *epoch;
                self.lr_g = *lr_g;
                self.images_per_s = *images_per_s;
                self.eta_s = *eta_s;
                for (name, value) in losses {
                    if value.is_finite() {
                        self.losses
                            .entry(name.clone())
                            .or_default()
                            .push([*step as f64, *value]);
                    }
                }
            }
            TrainerEvent::Sample { step, path } => self.sample = Some((*step, path.clone())),
            TrainerEvent::Checkpoint { path, .. } => self.checkpoint = Some(path.clone()),
            TrainerEvent::Stopped {
                step,
                reason,
                checkpoint,
                ..
            } => {
                self.step = *step;
                self.eta_s = None;
                if checkpoint.is_some() {
                    self.checkpoint.clone_from(checkpoint);
                }
                self.status = RunStatus::Stopped {
                    reason: reason.clone(),
                    checkpoint: checkpoint.clone(),
                };
            }
            TrainerEvent::Finished {
                step, checkpoint, ..
            } => {
                self.step = *step;
                self.eta_s = Some(0.0);
                if checkpoint.is_some() {
                    self.checkpoint.clone_from(checkpoint);
                }
                self.status = RunStatus::Finished;
            }
            TrainerEvent::Exported { id, path, .. } => {
                self.status = RunStatus::Exported {
                    id: id.clone(),
                    path: path.clone(),
                };
            }
            TrainerEvent::Error { message, .. } => {
                self.status = RunStatus::Failed {
                    message: message.clone(),
                };
            }
            TrainerEvent::Unknown => {}
        }
    }

    /// Records the end of the process; an exit that no event explains becomes a failure.
    pub fn exited(&mut self, exit: ExitInfo) {
        self.exit = Some(exit);
        if exit.success() {
            match self.status {
                RunStatus::Starting | RunStatus::Running | RunStatus::Stopping => {
                    self.status = RunStatus::Failed {
                        message: "the trainer exited without finishing or stopping (see the log)"
                            .into(),
                    };
                }
                _ => {}
            }
            return;
        }
        match &self.status {
            RunStatus::Failed { .. } => {}
            RunStatus::Stopping if exit.signal.is_some() => {
                // Stopped before its signal handler was installed (still importing PyTorch).
                self.status = RunStatus::Stopped {
                    reason: "stopped before training began".into(),
                    checkpoint: self.checkpoint.clone(),
                };
            }
            _ => {
                let last = self
                    .log
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map_or_else(String::new, |l| format!("; its last message: {l}"));
                self.status = RunStatus::Failed {
                    message: format!("the trainer ended with {exit}{last}"),
                };
            }
        }
    }

    pub fn push_log(&mut self, line: impl Into<String>) {
        self.log.push_back(line.into());
        while self.log.len() > MAX_LOG_LINES {
            self.log.pop_front();
        }
    }

    /// The trainer is compiling the networks before its first step (the run is going on, or
    /// stopping, and no step has come since a start that compiles): no rate or ETA yet.
    pub fn compiling(&self) -> bool {
        self.compile_pending && matches!(self.status, RunStatus::Running | RunStatus::Stopping)
    }

    /// 0..=1 of the planned steps.
    pub fn fraction(&self) -> f32 {
        if self.steps == 0 {
            0.0
        } else {
            (self.step as f64 / self.steps as f64).clamp(0.0, 1.0) as f32
        }
    }

    /// The latest value of each loss.
    pub fn latest_losses(&self) -> Vec<(&str, f64)> {
        self.losses
            .iter()
            .filter_map(|(k, v)| v.last().map(|p| (k.as_str(), p[1])))
            .collect()
    }
}

/// "2 h 05 min", "3 min 20 s", "12 s".
pub fn duration_text(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "—".into();
    }
    let s = seconds.round() as u64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::super::events::{
        parse_event,
        tests::{RECORDED, RECORDED_OASIS},
    };
    use super::*;

    fn progress_of(lines: &[&str]) -> RunProgress {
        let mut p = RunProgress::default();
        for l in lines {
            p.apply(&parse_event(l).expect("event"));
        }
        p
    }

    #[test]
    fn a_recorded_run_goes_from_start_to_exported() {
        let p = progress_of(&RECORDED[..3]);
        assert_eq!(p.status, RunStatus::Running);
        assert_eq!((p.step, p.steps), (1, 2));
        assert_eq!(p.fraction(), 0.5);
        let g_feat = &p.losses["g_feat"];
        assert_eq!(g_feat.len(), 1);
        assert_eq!(g_feat[0][0], 1.0);
        assert!((g_feat[0][1] - 25.24713134765625).abs() < 1e-12);
        assert_eq!(p.latest_losses().len(), 4);
        assert_eq!(p.device.as_deref(), Some("cpu"));
        let mut p = progress_of(RECORDED);
        assert_eq!(
            p.status,
            RunStatus::Exported {
                id: "pkg".into(),
                path: "/tmp/sb6/pkg".into()
            }
        );
        assert_eq!(p.sample.as_ref().map(|s| s.0), Some(1));
        assert_eq!(
            p.checkpoint.as_deref(),
            Some(std::path::Path::new("/tmp/sb6/run/checkpoint.pt"))
        );
        p.exited(ExitInfo {
            code: Some(0),
            signal: None,
        });
        assert!(matches!(p.status, RunStatus::Exported { .. }));
    }

    #[test]
    fn an_oasis_run_has_curves_for_its_own_losses_and_shows_its_recipe() {
        let p = progress_of(RECORDED_OASIS);
        assert_eq!(p.status, RunStatus::Finished);
        assert_eq!((p.step, p.steps, p.images), (2, 2, Some(367)));
        let names: Vec<&str> = p.losses.keys().map(String::as_str).collect();
        assert_eq!(names, ["d_fake", "d_labelmix", "d_real", "g_gan"]);
        let steps: Vec<f64> = p.losses["d_labelmix"].iter().map(|x| x[0]).collect();
        assert_eq!(steps, [1.0, 2.0]);
        assert!(p.losses.values().all(|points| points.len() == 2));
        let latest = p.latest_losses();
        assert_eq!(latest.len(), 4);
        assert!(latest.iter().all(|(name, _)| *name != "g_feat"));
        assert_eq!(
            p.recipe,
            RunRecipe {
                discriminator: Some("oasis".into()),
                diffaug: Some("color,translation".into()),
                lambda_labelmix: Some(10.0),
            }
        );
        assert_eq!(
            p.recipe.facts(),
            [
                "OASIS discriminator, LabelMix weight 10",
                "DiffAugment color,translation"
            ]
        );
        // An FPSE run from before the option: no DiffAugment to show, no LabelMix.
        let p = progress_of(RECORDED);
        assert_eq!(p.recipe.facts(), ["FPSE discriminator"]);
        let off = RunRecipe {
            discriminator: Some("fp".into()),
            diffaug: Some("off".into()),
            lambda_labelmix: Some(10.0),
        };
        assert_eq!(off.facts(), ["feature-pyramid discriminator"]);
    }

    #[test]
    fn resume_supersedes_the_stop_and_trims_redone_steps() {
        let mut p = RunProgress::default();
        for (step, v) in [(1, 3.0), (2, 2.0), (3, 1.0)] {
            p.apply(&TrainerEvent::Step {
                step,
                steps: 10,
                epoch: None,
                losses: [("g_gan".to_string(), v)].into(),
                lr_g: None,
                images_per_s: Some(2.0),
                eta_s: Some(4.0),
            });
        }
        p.apply(&TrainerEvent::Stopped {
            step: 3,
            steps: Some(10),
            reason: "SIGTERM".into(),
            checkpoint: Some("/r/checkpoint.pt".into()),
        });
        assert!(p.status.is_over());
        // The checkpoint was at step 2 in this story: a resumed run starts there.
        p.apply(&TrainerEvent::Start {
            step: 2,
            steps: 10,
            out: None,
            device: None,
            world: None,
            images: None,
            model: serde_json::Value::Null,
            train: serde_json::Value::Null,
        });
        assert_eq!(p.status, RunStatus::Running);
        assert_eq!(p.losses["g_gan"], vec![[1.0, 3.0], [2.0, 2.0]]);
    }

    fn start_event(step: u64, train: serde_json::Value) -> TrainerEvent {
        TrainerEvent::Start {
            step,
            steps: 10,
            out: None,
            device: Some("cpu".into()),
            world: None,
            images: None,
            model: serde_json::Value::Null,
            train,
        }
    }

    fn step_event(step: u64) -> TrainerEvent {
        TrainerEvent::Step {
            step,
            steps: 10,
            epoch: None,
            losses: [("g_gan".to_string(), 1.0)].into(),
            lr_g: None,
            images_per_s: Some(2.0),
            eta_s: Some(4.0),
        }
    }

    #[test]
    fn a_start_that_compiles_is_compiling_until_its_first_step() {
        let mut p = RunProgress::default();
        p.apply(&start_event(
            0,
            serde_json::json!({"steps": 10, "compile": true}),
        ));
        assert!(p.compiling());
        assert_eq!((p.status.clone(), p.eta_s), (RunStatus::Running, None));
        p.apply(
            &parse_event(
                r#"{"event": "compile", "phase": "start", "nets": ["G", "D"], "note": "inductor"}"#,
            )
            .expect("compile"),
        );
        assert!(p.compiling());
        assert_eq!(p.compile_note.as_deref(), Some("inductor"));
        p.push_log("12:00:00 INFO compiling G and D");
        assert!(p.compiling(), "log lines are not steps");
        p.status = RunStatus::Stopping;
        assert!(p.compiling(), "a stop asked for during the compilation");
        p.status = RunStatus::Running;
        p.apply(&step_event(1));
        assert!(!p.compiling());
        assert_eq!(p.eta_s, Some(4.0));
        p.apply(&step_event(2));
        assert!(!p.compiling());

        // A run that dies while compiling is not compiling any more.
        let mut p = RunProgress::default();
        p.apply(&start_event(0, serde_json::json!({"compile": true})));
        p.exited(ExitInfo {
            code: None,
            signal: Some(9),
        });
        assert!(matches!(p.status, RunStatus::Failed { .. }));
        assert!(!p.compiling());
    }

    #[test]
    fn a_start_that_does_not_compile_is_not_compiling() {
        // `compile: false` (RECORDED_OASIS) and no `compile` field at all (RECORDED).
        for lines in [&RECORDED_OASIS[..2], &RECORDED[..2]] {
            let p = progress_of(lines);
            assert_eq!(p.status, RunStatus::Running);
            assert!(!p.compile_pending && !p.compiling(), "{:?}", lines[1]);
        }
        // Only a boolean counts; a `compile` event alone does (e.g. `"compile": "auto"`).
        let mut p = RunProgress::default();
        p.apply(&start_event(0, serde_json::json!({"compile": "auto"})));
        assert!(!p.compiling());
        p.apply(&parse_event(r#"{"event": "compile", "phase": "start"}"#).expect("compile"));
        assert!(p.compiling());
        assert_eq!(p.compile_note, None);
        p.apply(&parse_event(r#"{"event": "compile", "phase": "other"}"#).expect("compile"));
        assert!(p.compiling(), "only a step ends it");
    }

    #[test]
    fn a_resumed_start_says_afresh_whether_it_compiles() {
        let mut p = RunProgress::default();
        p.apply(&start_event(0, serde_json::json!({"compile": true})));
        p.apply(&TrainerEvent::Stopped {
            step: 0,
            steps: Some(10),
            reason: "SIGTERM".into(),
            checkpoint: None,
        });
        assert!(!p.compiling(), "stopped");
        // Resumed without compiling: the earlier start's compilation is forgotten.
        p.apply(&start_event(0, serde_json::json!({"compile": false})));
        assert_eq!(p.status, RunStatus::Running);
        assert!(!p.compiling());
        p.apply(&step_event(1));
        p.apply(&step_event(2));
        p.apply(&TrainerEvent::Stopped {
            step: 2,
            steps: Some(10),
            reason: "SIGTERM".into(),
            checkpoint: Some("/r/checkpoint.pt".into()),
        });
        // Resumed with compiling: compiling again after the earlier steps, until the next one.
        p.apply(&start_event(2, serde_json::json!({"compile": true})));
        assert!(p.compiling());
        assert_eq!((p.step, p.eta_s), (2, None));
        p.apply(&step_event(3));
        assert!(!p.compiling());
        // A later start without the field does not compile either.
        p.apply(&start_event(3, serde_json::Value::Null));
        assert!(!p.compiling());
    }

    #[test]
    fn unexplained_exits_are_failures_with_the_last_log_line() {
        let mut p = progress_of(&RECORDED[..3]);
        p.push_log("Traceback (most recent call last):");
        p.push_log("MemoryError");
        p.exited(ExitInfo {
            code: None,
            signal: Some(9),
        });
        let RunStatus::Failed { message } = &p.status else {
            panic!("{:?}", p.status);
        };
        assert!(message.contains("killed by signal 9") && message.contains("MemoryError"));

        let mut p = progress_of(&RECORDED[..3]);
        p.exited(ExitInfo {
            code: Some(0),
            signal: None,
        });
        assert!(matches!(p.status, RunStatus::Failed { .. }));

        // An error event keeps its own message whatever the exit status says.
        let mut p = progress_of(&[
            r#"{"event": "error", "message": "no checkpoint at /x.pt", "kind": "CheckpointError"}"#,
        ]);
        p.exited(ExitInfo {
            code: Some(1),
            signal: None,
        });
        assert_eq!(
            p.status,
            RunStatus::Failed {
                message: "no checkpoint at /x.pt".into()
            }
        );
        assert_eq!(
            ExitInfo {
                code: None,
                signal: Some(15)
            }
            .shell_code(),
            143
        );

        let mut p = RunProgress {
            status: RunStatus::Stopping,
            ..RunProgress::default()
        };
        p.exited(ExitInfo {
            code: None,
            signal: Some(15),
        });
        assert!(matches!(p.status, RunStatus::Stopped { .. }));
    }

    #[test]
    fn a_failed_check_fails_the_run_and_log_is_bounded() {
        let mut p = progress_of(&[
            r#"{"event": "check", "ok": false, "dataset": "d", "pairs": 0, "problems": [{"kind": "empty", "path": "/d/photos", "message": "no photos in /d/photos"}]}"#,
        ]);
        assert_eq!(
            p.status,
            RunStatus::Failed {
                message: "the dataset check found 1 problem: no photos in /d/photos".into()
            }
        );
        for i in 0..MAX_LOG_LINES + 10 {
            p.push_log(format!("line {i}"));
        }
        assert_eq!(p.log.len(), MAX_LOG_LINES);
        assert_eq!(p.log.front().map(String::as_str), Some("line 10"));
        assert_eq!(duration_text(3725.0), "1 h 02 min");
        assert_eq!(duration_text(200.0), "3 min 20 s");
        assert_eq!(duration_text(9.4), "9 s");
    }
}
