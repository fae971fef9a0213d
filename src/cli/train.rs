//! `scenebrush train [trainer arguments]`: the bundled trainer with its progress as a progress
//! bar and a few lines, not raw JSON. The exit status is the trainer's.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::training::{
    EventSource, ExitInfo, TrainerEvent, TrainerMessage, TrainerProcess, duration_text,
    find_trainer,
};

use super::Exit;

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct TrainArgs {
    /// The trainer's arguments, as for `python -m scenebrush_trainer train` (see
    /// `scenebrush train --help`)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// `--events FILE` among the arguments, if any.
fn events_file(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--events" {
            return it
                .next()
                .map(PathBuf::from)
                .filter(|p| p.as_os_str() != "-");
        }
        if let Some(v) = s.strip_prefix("--events=") {
            return Some(PathBuf::from(v)).filter(|p| p.as_os_str() != "-");
        }
    }
    None
}

/// The trainer's own progress log lines ("12:00:01 INFO step 3/40 ..."): the bar shows them.
fn is_routine_log(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    let (Some(time), Some(level)) = (parts.next(), parts.next()) else {
        return false;
    };
    time.len() == 8
        && time.bytes().filter(|b| *b == b':').count() == 2
        && matches!(level, "INFO" | "ERROR" | "DEBUG")
}

fn losses_text(losses: &std::collections::BTreeMap<String, f64>) -> String {
    losses
        .iter()
        .map(|(k, v)| format!("{k} {v:.3}"))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Terminal {
    bar: ProgressBar,
    /// Last step printed as a line (when the bar cannot be drawn).
    printed_step: u64,
    saw_error: bool,
    stderr_tail: Vec<String>,
}

impl Terminal {
    fn line(&self, text: impl AsRef<str>) {
        self.bar.suspend(|| println!("{}", text.as_ref()));
    }

    fn event(&mut self, event: &TrainerEvent) {
        match event {
            TrainerEvent::Check(report) => {
                if report.ok {
                    self.line(format!(
                        "dataset {}: {} pairs, no problems",
                        report.dataset, report.pairs
                    ));
                } else {
                    self.line(format!(
                        "dataset {}: {} problem{}:",
                        report.dataset,
                        report.problems.len(),
                        if report.problems.len() == 1 { "" } else { "s" }
                    ));
                    for p in &report.problems {
                        self.line(format!("  {}: {}", p.kind, p.message));
                    }
                }
            }
            TrainerEvent::Start {
                step,
                steps,
                out,
                device,
                images,
                ..
            } => {
                self.bar.set_length(*steps);
                self.bar.set_position(*step);
                self.bar.reset_eta();
                self.printed_step = *step;
                let from = if *step > 0 {
                    format!(" from step {step}")
                } else {
                    String::new()
                };
                self.line(format!(
                    "training {steps} steps{from} on {} ({} images); run folder {}",
                    device.as_deref().unwrap_or("?"),
                    images.map_or("?".into(), |n| n.to_string()),
                    out.as_ref().map_or("?".into(), |p| p.display().to_string())
                ));
            }
            TrainerEvent::Step {
                step,
                steps,
                losses,
                images_per_s,
                eta_s,
                ..
            } => {
                self.bar.set_length(*steps);
                self.bar.set_position(*step);
                let speed = images_per_s.map_or(String::new(), |r| format!(" · {r:.2} img/s"));
                let eta = eta_s.map_or(String::new(), |s| format!(" · ETA {}", duration_text(s)));
                self.bar
                    .set_message(format!("{}{speed}{eta}", losses_text(losses)));
                // Without a terminal, a line every tenth of the run instead of the bar.
                if self.bar.is_hidden()
                    && (step.saturating_sub(self.printed_step) >= (steps / 10).max(1)
                        || step == steps)
                {
                    self.printed_step = *step;
                    self.line(format!(
                        "step {step}/{steps} {}{speed}{eta}",
                        losses_text(losses)
                    ));
                }
            }
            TrainerEvent::Sample { step, path } => {
                self.line(format!("sample at step {step}: {}", path.display()));
            }
            TrainerEvent::Checkpoint { step, path } => {
                self.line(format!("checkpoint at step {step}: {}", path.display()));
            }
            TrainerEvent::Stopped {
                step,
                reason,
                checkpoint,
                ..
            } => {
                let run = checkpoint
                    .as_ref()
                    .and_then(|c| c.parent())
                    .map_or("RUN".into(), |d| d.display().to_string());
                self.line(format!(
                    "stopped at step {step} ({reason}); continue with: scenebrush train --out {run} --resume"
                ));
            }
            TrainerEvent::Finished {
                step,
                seconds,
                checkpoint,
                ..
            } => {
                self.bar.set_position(*step);
                self.line(format!(
                    "finished {step} steps{}{}",
                    seconds.map_or(String::new(), |s| format!(" in {}", duration_text(s))),
                    checkpoint
                        .as_ref()
                        .map_or(String::new(), |c| format!("; checkpoint {}", c.display()))
                ));
            }
            TrainerEvent::Exported { path, id, .. } => {
                self.line(format!("exported model {id} to {}", path.display()));
            }
            TrainerEvent::Error { message, .. } => {
                self.saw_error = true;
                self.bar.suspend(|| eprintln!("error: {message}"));
            }
            TrainerEvent::Unknown => {}
        }
    }

    fn log(&mut self, line: String) {
        if is_routine_log(&line) {
            self.stderr_tail.push(line);
            if self.stderr_tail.len() > 20 {
                self.stderr_tail.remove(0);
            }
        } else {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }
}

pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let setup = find_trainer();
    let launcher = setup.launcher()?;
    let mut trainer_args: Vec<OsString> = vec!["train".into()];
    trainer_args.extend(args.args.iter().cloned());
    let source = match events_file(&args.args) {
        Some(path) => EventSource::File {
            offset: std::fs::metadata(&path).map_or(0, |m| m.len()),
            path,
        },
        None => EventSource::Stdout,
    };
    let mut process = TrainerProcess::spawn(launcher, &trainer_args, source)?;
    // Ctrl-C reaches the trainer too (same process group): it checkpoints and stops, and this
    // process stays to report it.
    #[cfg(unix)]
    ignore_interrupts();

    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("[{bar:32}] {pos}/{len} steps {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut term = Terminal {
        bar,
        printed_step: 0,
        saw_error: false,
        stderr_tail: Vec::new(),
    };
    let exit = loop {
        let Some(message) = process.recv_timeout(Duration::from_millis(200)) else {
            term.bar.tick();
            continue;
        };
        match message {
            TrainerMessage::Event(event) => term.event(&event),
            TrainerMessage::Log(line) => term.log(line),
            TrainerMessage::Output(line) => term.line(line),
            TrainerMessage::BadEvent { line, .. } => term.line(line),
            TrainerMessage::SampleImage { .. } => {}
            TrainerMessage::Exited(exit) => break exit,
        }
    };
    term.bar.finish_and_clear();
    report_exit(&term, exit)
}

fn report_exit(term: &Terminal, exit: ExitInfo) -> anyhow::Result<()> {
    if exit.success() {
        return Ok(());
    }
    if !term.saw_error {
        for line in &term.stderr_tail {
            eprintln!("{line}");
        }
        eprintln!("error: the trainer ended with {exit}");
    }
    Err(Exit(exit.shell_code()).into())
}

#[cfg(unix)]
fn ignore_interrupts() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: installs SIG_IGN, which runs no code in the handler; no other signal handling
    // is set up by this process.
    if let Err(e) = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) } {
        tracing::warn!("cannot ignore Ctrl-C while the trainer stops: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_flag_and_routine_logs() {
        let args: Vec<OsString> = ["--out", "r", "--events", "r/e.jsonl"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(events_file(&args), Some(PathBuf::from("r/e.jsonl")));
        let args: Vec<OsString> = ["--events=x.jsonl"].iter().map(OsString::from).collect();
        assert_eq!(events_file(&args), Some(PathBuf::from("x.jsonl")));
        let args: Vec<OsString> = ["--events", "-"].iter().map(OsString::from).collect();
        assert_eq!(events_file(&args), None);
        assert!(is_routine_log("20:16:22 INFO step 1/2 d_real 2.990"));
        assert!(!is_routine_log("20:16:22 WARNING SIGTERM received"));
        assert!(!is_routine_log("Traceback (most recent call last):"));
    }
}
