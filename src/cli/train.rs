//! `scenebrush train [trainer arguments]`: the bundled trainer with its progress as a progress
//! bar and a few lines, not raw JSON. The exit status is the trainer's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::training::{
    COMPILING_TEXT, EventSource, ExitInfo, TrainerEvent, TrainerMessage, TrainerProcess,
    duration_text, find_trainer,
};

use super::Exit;

#[cfg(unix)]
mod stop;

/// `s` as one shell word (single-quoted when it holds anything but plain path characters).
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `--out` among the trainer's arguments.
fn out_arg(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--out" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--out=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// Options of the original command that a resumed run needs again (the checkpoint keeps the
/// model, data and training settings; these are about where output goes and what runs it).
const CARRIED: [&str; 6] = [
    "--events",
    "--device",
    "--threads",
    "--export-to",
    "--export-id",
    "--export-name",
];

/// `scenebrush train --out RUN --resume ...`, with RUN absolute so it works from any folder.
fn resume_command(args: &[OsString], run: &Path) -> String {
    let run = std::path::absolute(run).unwrap_or_else(|_| run.to_path_buf());
    let mut words = vec![
        "scenebrush".to_string(),
        "train".into(),
        "--out".into(),
        shell_quote(&run.to_string_lossy()),
        "--resume".into(),
    ];
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        let (flag, value) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        if !CARRIED.contains(&flag.as_str()) {
            continue;
        }
        let Some(value) = value.or_else(|| it.next()) else {
            continue;
        };
        // Paths absolute too, like the run folder.
        let value = if matches!(flag.as_str(), "--events" | "--export-to") && value != "-" {
            std::path::absolute(&value).map_or(value, |p| p.to_string_lossy().into_owned())
        } else {
            value
        };
        words.push(flag);
        words.push(shell_quote(&value));
    }
    words.join(" ")
}

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

// What stop.rs reads about the run exists only on Unix.
#[cfg_attr(not(unix), allow(dead_code))]
struct Terminal {
    bar: ProgressBar,
    /// Last step printed as a line (when the bar cannot be drawn).
    printed_step: u64,
    saw_error: bool,
    stderr_tail: Vec<String>,
    /// The trainer has sent an event: it runs its own code, so its stop handler is installed.
    ready: bool,
    /// The last checkpoint reported: (step, path).
    last_checkpoint: Option<(u64, PathBuf)>,
    /// The `stopped` event: (step, reason, checkpoint).
    stopped: Option<(u64, String, Option<PathBuf>)>,
    finished: bool,
    /// The run folder (`out` of the start event).
    run_dir: Option<PathBuf>,
}

/// A line on stdout. Never panics: after a hang-up the terminal is gone, and the trainer must
/// still be waited for.
fn out_line(text: impl AsRef<str>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{}", text.as_ref());
}

/// A line on stderr (never panics, like [`out_line`]).
fn err_line(text: impl AsRef<str>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{}", text.as_ref());
}

impl Terminal {
    fn line(&self, text: impl AsRef<str>) {
        self.bar.suspend(|| out_line(text));
    }

    fn event(&mut self, event: &TrainerEvent) {
        self.ready = true;
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
                self.run_dir.clone_from(out);
                self.line(format!(
                    "training {steps} steps{from} on {} ({} images); run folder {}",
                    device.as_deref().unwrap_or("?"),
                    images.map_or("?".into(), |n| n.to_string()),
                    out.as_ref().map_or("?".into(), |p| p.display().to_string())
                ));
            }
            TrainerEvent::Compile { phase, .. } => {
                if phase == "start" {
                    self.line(COMPILING_TEXT);
                }
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
                self.last_checkpoint = Some((*step, path.clone()));
                self.line(format!("checkpoint at step {step}: {}", path.display()));
            }
            TrainerEvent::Stopped {
                step,
                reason,
                checkpoint,
                ..
            } => {
                self.stopped = Some((*step, reason.clone(), checkpoint.clone()));
                self.line(format!(
                    "stopped at step {step} ({reason}){}",
                    checkpoint
                        .as_ref()
                        .map_or(String::new(), |c| format!("; checkpoint {}", c.display()))
                ));
            }
            TrainerEvent::Finished {
                step,
                seconds,
                checkpoint,
                ..
            } => {
                self.finished = true;
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
                self.bar.suspend(|| err_line(format!("error: {message}")));
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
            self.bar.suspend(|| err_line(line));
        }
    }
}

pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let setup = find_trainer();
    let mut launcher = setup.launcher()?.clone();
    // Relative paths among the arguments are the user's: the trainer runs where scenebrush was
    // started (PYTHONPATH points at the trainer, so it needs no particular folder).
    launcher.cwd = None;
    let mut trainer_args: Vec<OsString> = vec!["train".into()];
    trainer_args.extend(args.args.iter().cloned());
    let source = match events_file(&args.args) {
        Some(path) => EventSource::File {
            offset: std::fs::metadata(&path).map_or(0, |m| m.len()),
            path,
        },
        None => EventSource::Stdout,
    };
    // Installed before the trainer starts so no stop request is missed. The trainer has a
    // process group of its own: a terminal's Ctrl-C or hang-up reaches only this process, which
    // forwards one graceful stop (stop.rs explains the rules).
    #[cfg(unix)]
    stop::install()?;
    let mut process = TrainerProcess::spawn_own_group(&launcher, &trainer_args, source)?;

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
        ready: false,
        last_checkpoint: None,
        stopped: None,
        finished: false,
        run_dir: None,
    };
    #[cfg(unix)]
    let mut stopper = stop::Stopper::default();
    let exit = loop {
        #[cfg(unix)]
        stopper.poll(&process, &term);
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
    #[cfg(unix)]
    if let Some(received) = stopper.received() {
        return stop::report(&term, &args.args, exit, received, stopper.escalated());
    }
    report_exit(&term, &args.args, exit)
}

/// The run folder: where the checkpoint is, else the start event's, else `--out`.
fn run_dir(term: &Terminal, args: &[OsString], checkpoint: Option<&Path>) -> PathBuf {
    checkpoint
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .or_else(|| term.run_dir.clone())
        .or_else(|| out_arg(args))
        .unwrap_or_else(|| PathBuf::from("."))
}

fn report_exit(term: &Terminal, args: &[OsString], exit: ExitInfo) -> anyhow::Result<()> {
    if exit.success() {
        // Stopped on purpose (`--until`): how to go on.
        if let Some((_, _, checkpoint)) = &term.stopped {
            let run = run_dir(term, args, checkpoint.as_deref());
            term.line(format!("continue with: {}", resume_command(args, &run)));
        }
        return Ok(());
    }
    if !term.saw_error {
        for line in &term.stderr_tail {
            err_line(line);
        }
        err_line(format!("error: the trainer ended with {exit}"));
    }
    Err(Exit(exit.shell_code()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_keeps_output_options_and_quotes_paths() {
        let args: Vec<OsString> = [
            "--photos",
            "p",
            "--steps",
            "9",
            "--export-to=/m/my model",
            "--device",
            "cpu",
            "--out",
            "/r/run",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        assert_eq!(
            resume_command(&args, Path::new("/r/run")),
            "scenebrush train --out /r/run --resume --export-to '/m/my model' --device cpu"
        );
        assert_eq!(out_arg(&args), Some(PathBuf::from("/r/run")));
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            resume_command(&[], Path::new("rel")),
            format!(
                "scenebrush train --out {} --resume",
                shell_quote(&cwd.join("rel").to_string_lossy())
            )
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

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
