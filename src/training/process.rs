//! The trainer as a child process: finding the project's Python environment, starting
//! `python -m scenebrush_trainer`, reading its events and logs on threads, stopping it gracefully.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::TrainingError;
use super::events::{CheckReport, TrainerEvent, parse_event};
use super::progress::ExitInfo;

/// A program run instead of `python -m scenebrush_trainer` (it gets the same arguments).
pub const TRAINER_ENV: &str = "SCENEBRUSH_TRAINER";

/// How often the events file is read for new lines.
const TAIL_INTERVAL: Duration = Duration::from_millis(50);

/// How to run the trainer: `program prefix... SUBCOMMAND ARGS...` in `cwd` with `env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainerLauncher {
    pub program: PathBuf,
    pub prefix: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(OsString, OsString)>,
}

impl TrainerLauncher {
    /// Runs `program` with `prefix` before the trainer's arguments (e.g. a test double).
    pub fn program(program: impl Into<PathBuf>, prefix: &[&str]) -> Self {
        Self {
            program: program.into(),
            prefix: prefix.iter().map(OsString::from).collect(),
            cwd: None,
            env: Vec::new(),
        }
    }

    /// `<root>/.venv/bin/python -m scenebrush_trainer` with `PYTHONPATH=<root>/trainer`.
    pub fn python(root: &Path, python: PathBuf) -> Self {
        Self {
            program: python,
            prefix: vec!["-m".into(), "scenebrush_trainer".into()],
            cwd: Some(root.to_path_buf()),
            env: vec![
                ("PYTHONPATH".into(), root.join("trainer").into_os_string()),
                // Logs arrive as they are written, not when a buffer fills.
                ("PYTHONUNBUFFERED".into(), "1".into()),
            ],
        }
    }

    /// The command for `args` (the first being the trainer's subcommand).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.prefix).args(args);
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The command line as text, for logs.
    pub fn describe(&self, args: &[OsString]) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.prefix.iter().map(OsString::as_os_str))
            .chain(args.iter().map(OsString::as_os_str))
            .map(|a| {
                let s = a.to_string_lossy();
                if s.contains(' ') {
                    format!("'{s}'")
                } else {
                    s.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether the trainer can run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrainerSetup {
    Ready(TrainerLauncher),
    /// The trainer's sources are here but its Python environment is not: `setup_script`
    /// creates it.
    NoEnvironment {
        root: PathBuf,
        python: PathBuf,
        setup_script: PathBuf,
    },
    /// No copy of the trainer was found (e.g. an installed app without the project folder).
    NotFound {
        searched: Vec<PathBuf>,
    },
}

impl TrainerSetup {
    pub fn launcher(&self) -> Result<&TrainerLauncher, TrainingError> {
        match self {
            TrainerSetup::Ready(l) => Ok(l),
            TrainerSetup::NoEnvironment { python, .. } => {
                Err(TrainingError::NoEnvironment(python.clone()))
            }
            TrainerSetup::NotFound { searched } => Err(TrainingError::TrainerNotFound {
                searched: searched.clone(),
            }),
        }
    }
}

/// The Python of a virtual environment.
pub fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Finds the trainer: `$SCENEBRUSH_TRAINER` if set, else the project folder among the app's
/// roots (beside the executable, the checkout it was built in, its source tree) that holds
/// `trainer/scenebrush_trainer`, run with that folder's `.venv` (made by scripts/setup.sh).
pub fn find_trainer() -> TrainerSetup {
    if let Some(program) = std::env::var_os(TRAINER_ENV).filter(|v| !v.is_empty()) {
        return TrainerSetup::Ready(TrainerLauncher::program(PathBuf::from(program), &[]));
    }
    let roots = crate::paths::app_roots();
    let mut missing_env = None;
    for root in &roots {
        if !root.join("trainer").join("scenebrush_trainer").is_dir() {
            continue;
        }
        let python = venv_python(&root.join(".venv"));
        if python.is_file() {
            return TrainerSetup::Ready(TrainerLauncher::python(root, python));
        }
        missing_env.get_or_insert_with(|| TrainerSetup::NoEnvironment {
            root: root.clone(),
            python,
            setup_script: root.join("scripts").join("setup.sh"),
        });
    }
    missing_env.unwrap_or(TrainerSetup::NotFound { searched: roots })
}

/// Where the trainer's progress events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSource {
    /// JSON lines on stdout.
    Stdout,
    /// JSON lines appended to this file (`--events FILE`); read from `offset` on.
    File { path: PathBuf, offset: u64 },
    /// Not a trainer (the setup script): every line is a log line.
    None,
}

/// What the process's reader threads report, in order; `Exited` comes last.
#[derive(Debug, Clone)]
pub enum TrainerMessage {
    Event(TrainerEvent),
    /// A line of stderr (the trainer's logs).
    Log(String),
    /// A line of stdout that is not an event (e.g. `--help`).
    Output(String),
    /// A line of the events stream that is not a valid event.
    BadEvent {
        line: String,
        error: String,
    },
    /// The sample grid of a `sample` event, decoded off the UI thread.
    SampleImage {
        step: u64,
        path: PathBuf,
        image: Result<image::RgbaImage, String>,
    },
    Exited(ExitInfo),
}

type Wake = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
struct Outbox {
    tx: Sender<TrainerMessage>,
    wake: Arc<Mutex<Option<Wake>>>,
}

impl Outbox {
    fn send(&self, message: TrainerMessage) {
        // The receiver is gone when the app dropped the process; nothing to tell then.
        let _ = self.tx.send(message);
        let wake = self.wake.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(wake) = wake {
            wake();
        }
    }

    fn event_line(&self, line: &str) {
        match parse_event(line) {
            Ok(event) => {
                let sample = match &event {
                    TrainerEvent::Sample { step, path } => Some((*step, path.clone())),
                    _ => None,
                };
                self.send(TrainerMessage::Event(event));
                if let Some((step, path)) = sample {
                    let image = image::open(&path)
                        .map(|i| i.to_rgba8())
                        .map_err(|e| format!("cannot read the sample {}: {e}", path.display()));
                    self.send(TrainerMessage::SampleImage { step, path, image });
                }
            }
            Err(e) => self.send(TrainerMessage::BadEvent {
                line: line.to_string(),
                error: e.to_string(),
            }),
        }
    }
}

/// A running trainer (or setup script). Dropping it leaves the process running: a stop is
/// asked for explicitly, so closing the app never loses training progress.
pub struct TrainerProcess {
    pid: u32,
    rx: Receiver<TrainerMessage>,
    wake: Arc<Mutex<Option<Wake>>>,
    kill: Arc<AtomicBool>,
    exited: bool,
    /// Started as the leader of its own process group ([`TrainerProcess::spawn_own_group`]).
    own_group: bool,
    pub command_line: String,
}

impl std::fmt::Debug for TrainerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainerProcess")
            .field("pid", &self.pid)
            .field("command_line", &self.command_line)
            .finish_non_exhaustive()
    }
}

fn lines_of(reader: impl Read, mut each: impl FnMut(String)) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                each(line.trim_end_matches(['\n', '\r']).to_string());
            }
        }
    }
}

/// Follows an events file the trainer appends to, until `done` is set and nothing is left.
fn tail_file(path: &Path, mut offset: u64, done: &AtomicBool, out: &Outbox) {
    let mut pending = Vec::new();
    loop {
        // Read `done` before reading the file: the last lines were written before the exit.
        let finished = done.load(Ordering::Acquire);
        if let Ok(mut file) = std::fs::File::open(path) {
            use std::io::Seek;
            if file.seek(std::io::SeekFrom::Start(offset)).is_ok() {
                let mut chunk = Vec::new();
                if let Ok(n) = file.read_to_end(&mut chunk) {
                    offset += n as u64;
                    pending.extend_from_slice(&chunk);
                }
            }
        }
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            if !line.trim().is_empty() {
                out.event_line(line.trim_end());
            }
        }
        if finished {
            if !pending.is_empty() {
                let line = String::from_utf8_lossy(&pending).into_owned();
                if !line.trim().is_empty() {
                    out.event_line(line.trim_end());
                }
            }
            return;
        }
        std::thread::sleep(TAIL_INTERVAL);
    }
}

#[cfg(unix)]
fn exit_info(status: std::process::ExitStatus) -> ExitInfo {
    use std::os::unix::process::ExitStatusExt;
    ExitInfo {
        code: status.code(),
        signal: status.signal(),
    }
}

#[cfg(not(unix))]
fn exit_info(status: std::process::ExitStatus) -> ExitInfo {
    ExitInfo {
        code: status.code(),
        signal: None,
    }
}

/// Waits for the child (polling, so a kill request can reach it), then for the readers, then
/// reports the exit: `Exited` is always the last message.
fn wait_loop(
    mut child: Child,
    readers: Vec<JoinHandle<()>>,
    done: &AtomicBool,
    kill: &AtomicBool,
    out: &Outbox,
) {
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                out.send(TrainerMessage::Log(format!(
                    "cannot wait for the trainer process: {e}"
                )));
                break None;
            }
        }
        if kill.swap(false, Ordering::AcqRel) {
            // Not Unix: no graceful signal, the process is ended.
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    done.store(true, Ordering::Release);
    for r in readers {
        let _ = r.join();
    }
    let exit = status.map_or(
        ExitInfo {
            code: None,
            signal: None,
        },
        exit_info,
    );
    out.send(TrainerMessage::Exited(exit));
}

impl TrainerProcess {
    /// Starts `launcher` with `args`; stdout and stderr are read on threads.
    pub fn spawn(
        launcher: &TrainerLauncher,
        args: &[OsString],
        events: EventSource,
    ) -> Result<TrainerProcess, TrainingError> {
        let mut cmd = launcher.command(args);
        let command_line = launcher.describe(args);
        Self::spawn_command(&mut cmd, command_line, events)
    }

    /// Like [`TrainerProcess::spawn`], with the trainer in a process group of its own (Unix):
    /// a terminal's Ctrl-C or hang-up then reaches only the caller, which decides what the
    /// trainer gets (`scenebrush train` forwards one graceful stop).
    pub fn spawn_own_group(
        launcher: &TrainerLauncher,
        args: &[OsString],
        events: EventSource,
    ) -> Result<TrainerProcess, TrainingError> {
        let mut cmd = launcher.command(args);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let command_line = launcher.describe(args);
        let mut process = Self::spawn_command(&mut cmd, command_line, events)?;
        process.own_group = cfg!(unix);
        Ok(process)
    }

    /// Starts any command (the setup script); with [`EventSource::None`] every line is a log.
    pub fn spawn_command(
        cmd: &mut Command,
        command_line: String,
        events: EventSource,
    ) -> Result<TrainerProcess, TrainingError> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| TrainingError::Spawn {
            command: command_line.clone(),
            message: e.to_string(),
        })?;
        let pid = child.id();
        let (tx, rx) = channel();
        let wake: Arc<Mutex<Option<Wake>>> = Arc::new(Mutex::new(None));
        let out = Outbox {
            tx,
            wake: Arc::clone(&wake),
        };
        let done = Arc::new(AtomicBool::new(false));
        let kill = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new().name(name.into()).spawn(f)
        };
        let thread_error = |e: std::io::Error| TrainingError::Spawn {
            command: command_line.clone(),
            message: format!("cannot start a reader thread: {e}"),
        };
        if let Some(stdout) = child.stdout.take() {
            let out = out.clone();
            let parse = events == EventSource::Stdout;
            readers.push(
                spawn(
                    "trainer-stdout",
                    Box::new(move || {
                        lines_of(stdout, |line| {
                            if parse && line.trim_start().starts_with('{') {
                                out.event_line(&line);
                            } else {
                                out.send(TrainerMessage::Output(line));
                            }
                        });
                    }),
                )
                .map_err(thread_error)?,
            );
        }
        if let Some(stderr) = child.stderr.take() {
            let out = out.clone();
            readers.push(
                spawn(
                    "trainer-stderr",
                    Box::new(move || lines_of(stderr, |line| out.send(TrainerMessage::Log(line)))),
                )
                .map_err(thread_error)?,
            );
        }
        if let EventSource::File { path, offset } = events {
            let out = out.clone();
            let done = Arc::clone(&done);
            readers.push(
                spawn(
                    "trainer-events",
                    Box::new(move || tail_file(&path, offset, &done, &out)),
                )
                .map_err(thread_error)?,
            );
        }
        let thread_kill = Arc::clone(&kill);
        spawn(
            "trainer-wait",
            Box::new(move || wait_loop(child, readers, &done, &thread_kill, &out)),
        )
        .map_err(thread_error)?;
        Ok(TrainerProcess {
            pid,
            rx,
            wake,
            kill,
            exited: false,
            own_group: false,
            command_line,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Called after each message (e.g. to repaint the UI).
    pub fn set_wake(&self, f: impl Fn() + Send + Sync + 'static) {
        *self.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(f));
    }

    /// Messages that have arrived, without waiting.
    pub fn try_recv(&mut self) -> Option<TrainerMessage> {
        match self.rx.try_recv() {
            Ok(m) => {
                if matches!(m, TrainerMessage::Exited(_)) {
                    self.exited = true;
                }
                Some(m)
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// Waits up to `timeout` for the next message (command line, tests).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<TrainerMessage> {
        let m = self.rx.recv_timeout(timeout).ok()?;
        if matches!(m, TrainerMessage::Exited(_)) {
            self.exited = true;
        }
        Some(m)
    }

    /// True once `Exited` has been received.
    pub fn has_exited(&self) -> bool {
        self.exited
    }

    /// Asks the trainer to stop after its current step, keeping a checkpoint (SIGTERM). Where
    /// there are no signals (Windows) the process is ended and the last checkpoint is kept.
    pub fn stop(&self) -> Result<(), TrainingError> {
        if self.exited {
            return Ok(());
        }
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, kill};
            use nix::unistd::Pid;
            let pid = i32::try_from(self.pid).map_err(|_| TrainingError::Signal {
                pid: self.pid,
                message: "process id out of range".into(),
            })?;
            kill(Pid::from_raw(pid), Signal::SIGTERM).map_err(|e| TrainingError::Signal {
                pid: self.pid,
                message: e.to_string(),
            })
        }
        #[cfg(not(unix))]
        {
            self.kill.store(true, Ordering::Release);
            Ok(())
        }
    }

    /// Sends `signal` to the trainer process itself (not its group: its helpers, if any, are
    /// the trainer's to stop).
    #[cfg(unix)]
    pub fn signal(&self, signal: nix::sys::signal::Signal) -> Result<(), TrainingError> {
        use nix::unistd::Pid;
        let pid = i32::try_from(self.pid).map_err(|_| TrainingError::Signal {
            pid: self.pid,
            message: "process id out of range".into(),
        })?;
        nix::sys::signal::kill(Pid::from_raw(pid), signal).map_err(|e| TrainingError::Signal {
            pid: self.pid,
            message: e.to_string(),
        })
    }

    /// Ends the process at once (no checkpoint beyond the last one written); with its own
    /// process group, everything it started too.
    pub fn kill(&self) {
        self.kill.store(true, Ordering::Release);
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, kill, killpg};
            use nix::unistd::Pid;
            if let Ok(pid) = i32::try_from(self.pid) {
                let _ = if self.own_group {
                    killpg(Pid::from_raw(pid), Signal::SIGKILL)
                } else {
                    kill(Pid::from_raw(pid), Signal::SIGKILL)
                };
            }
        }
    }
}

/// Runs `check --json` with the data arguments and returns its report. Blocks until the
/// check is done (run it on a thread in the GUI).
pub fn run_check(
    launcher: &TrainerLauncher,
    data_args: &[OsString],
) -> Result<CheckReport, TrainingError> {
    let mut args: Vec<OsString> = vec!["check".into(), "--json".into()];
    args.extend(data_args.iter().cloned());
    let command = launcher.describe(&args);
    let output = launcher
        .command(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TrainingError::Spawn {
            command: command.clone(),
            message: e.to_string(),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().filter(|l| l.trim_start().starts_with('{')) {
        match parse_event(line) {
            Ok(TrainerEvent::Check(report)) => return Ok(report),
            Ok(TrainerEvent::Error { message, .. }) => {
                return Err(TrainingError::Trainer { message });
            }
            _ => {}
        }
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output");
    Err(TrainingError::Trainer {
        message: format!(
            "the dataset check ({command}) gave no report ({}): {last}",
            exit_info(output.status)
        ),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn collect(p: &mut TrainerProcess) -> Vec<TrainerMessage> {
        let mut all = Vec::new();
        while !p.has_exited() {
            match p.recv_timeout(Duration::from_secs(20)) {
                Some(m) => all.push(m),
                None => panic!("no message within 20 s; so far {all:?}"),
            }
        }
        all
    }

    #[test]
    fn stdout_events_logs_and_exit_code_arrive_in_order() {
        let sh = TrainerLauncher::program("sh", &["-c"]);
        let script = r#"echo '{"event": "step", "step": 1, "steps": 2, "losses": {"g_gan": 0.5}}'; echo 'plain line'; echo 'oops' >&2; echo '{"event": "step"}'; exit 3"#;
        let mut p =
            TrainerProcess::spawn(&sh, &[script.into()], EventSource::Stdout).expect("spawn");
        let all = collect(&mut p);
        // stdout and stderr are read by separate threads: only stdout's own order is defined
        let first_stdout = all.iter().find(|m| !matches!(m, TrainerMessage::Log(_)));
        assert!(
            matches!(
                first_stdout,
                Some(TrainerMessage::Event(TrainerEvent::Step { step: 1, .. }))
            ),
            "{all:?}"
        );
        let logs: Vec<&str> = all
            .iter()
            .filter_map(|m| match m {
                TrainerMessage::Log(l) | TrainerMessage::Output(l) => Some(l.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            logs.contains(&"plain line") && logs.contains(&"oops"),
            "{logs:?}"
        );
        assert!(
            all.iter()
                .any(|m| matches!(m, TrainerMessage::Output(l) if l == "plain line"))
        );
        assert!(
            all.iter()
                .any(|m| matches!(m, TrainerMessage::BadEvent { .. }))
        );
        assert!(matches!(
            all.last(),
            Some(TrainerMessage::Exited(ExitInfo {
                code: Some(3),
                signal: None
            }))
        ));
    }

    #[test]
    fn events_file_is_followed_to_the_end_and_sigterm_reaches_the_process() {
        let dir = tempfile::tempdir().expect("tempdir");
        let events = dir.path().join("events.jsonl");
        let marker = dir.path().join("got-term");
        // Old lines before `offset` are skipped (a resumed run's file).
        let old = "{\"event\": \"step\", \"step\": 9, \"steps\": 9}\n";
        std::fs::write(&events, old).expect("write");
        let script = format!(
            "trap 'echo term > {m}; echo \"{{\\\"event\\\": \\\"stopped\\\", \\\"step\\\": 1, \\\"reason\\\": \\\"SIGTERM\\\"}}\" >> {e}; exit 0' TERM; \
             echo '{{\"event\": \"start\", \"step\": 0, \"steps\": 5}}' >> {e}; \
             while true; do sleep 0.05; done",
            m = marker.display(),
            e = events.display()
        );
        let sh = TrainerLauncher::program("sh", &["-c"]);
        let mut p = TrainerProcess::spawn(
            &sh,
            &[script.into()],
            EventSource::File {
                path: events.clone(),
                offset: old.len() as u64,
            },
        )
        .expect("spawn");
        match p.recv_timeout(Duration::from_secs(20)) {
            Some(TrainerMessage::Event(TrainerEvent::Start { steps: 5, .. })) => {}
            other => panic!("expected the start event, got {other:?}"),
        }
        p.stop().expect("signal");
        let rest = collect(&mut p);
        assert!(marker.is_file(), "the process did not get SIGTERM");
        assert!(
            rest.iter().any(|m| matches!(
                m,
                TrainerMessage::Event(TrainerEvent::Stopped { reason, .. }) if reason == "SIGTERM"
            )),
            "{rest:?}"
        );
        assert!(matches!(
            rest.last(),
            Some(TrainerMessage::Exited(ExitInfo { code: Some(0), .. }))
        ));
        assert!(
            !rest
                .iter()
                .any(|m| matches!(m, TrainerMessage::Event(TrainerEvent::Step { step: 9, .. })))
        );
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let l = TrainerLauncher::program("/nonexistent/python", &["-m", "x"]);
        let err = TrainerProcess::spawn(&l, &["train".into()], EventSource::Stdout)
            .expect_err("no such program");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/python -m x train"), "{text}");
        let err = run_check(&l, &[]).expect_err("no such program");
        assert!(err.to_string().contains("/nonexistent/python"), "{err}");
    }
}
