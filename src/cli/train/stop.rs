//! Stopping `scenebrush train` from outside without losing training.
//!
//! The trainer runs in a process group of its own, so SIGINT (Ctrl-C, `kill -INT`), SIGTERM
//! (`kill`, `timeout`, a service manager) and SIGHUP (a closed terminal) reach only this
//! process. The rules:
//! - The first of them is forwarded to the trainer once, as a graceful stop: it finishes its
//!   current step, writes a checkpoint and exits. It is held back until the trainer has sent
//!   its first event: before that Python has not installed its stop handler yet and the signal
//!   would kill it without a checkpoint.
//! - SIGINT and SIGTERM are forwarded as they are; SIGHUP as SIGTERM (every trainer version
//!   stops gracefully on SIGTERM; the default action of SIGHUP kills).
//! - A second SIGINT or SIGTERM ends the trainer and its process group at once (SIGKILL): the
//!   steps since its last checkpoint are lost. SIGHUP never escalates: a closing terminal can
//!   deliver it more than once, and nobody is there to ask for more.
//! - A signal ignored when scenebrush started (`nohup`, a background job's SIGINT) stays ignored.
//! - Exit status 128 + the number of the signal received (130 SIGINT, 143 SIGTERM, 129 SIGHUP)
//!   once the trainer has stopped, as for a process that signal ended, so scripts see the run
//!   did not finish; the trainer's own status if it failed instead; 0 if it finished anyway.

use std::ffi::{OsString, c_int};
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use super::{Exit, Terminal, err_line, resume_command};
use crate::training::{ExitInfo, TrainerProcess};

/// The signals that stop a run, in the order of [`RECEIVED`].
const STOP_SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// How many of each signal have arrived (the handler's only state).
static RECEIVED: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];

extern "C" fn on_stop_signal(signo: c_int) {
    // Only an atomic increment: async-signal-safe. The main loop does the rest.
    if let Some(i) = STOP_SIGNALS.iter().position(|s| *s as c_int == signo) {
        RECEIVED[i].fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts stop signals from now on instead of dying of them.
pub(super) fn install() -> anyhow::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_stop_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in STOP_SIGNALS {
        // SAFETY: the handler only increments an atomic counter, which is async-signal-safe;
        // this process sets up no other handler for these signals.
        let previous = unsafe { sigaction(sig, &action) }
            .map_err(|e| anyhow::anyhow!("cannot handle {sig} to stop the trainer cleanly: {e}"))?;
        if previous.handler() == SigHandler::SigIgn {
            // SAFETY: restores the disposition this process started with (ignore).
            unsafe { sigaction(sig, &previous) }
                .map_err(|e| anyhow::anyhow!("cannot keep ignoring {sig}: {e}"))?;
        }
    }
    Ok(())
}

/// The signal the trainer gets for a stop request.
fn forwarded_as(received: Signal) -> Signal {
    match received {
        Signal::SIGHUP => Signal::SIGTERM,
        other => other,
    }
}

/// What has been received and done so far.
#[derive(Debug, Default)]
pub(super) struct Stopper {
    handled: [usize; 3],
    first: Option<Signal>,
    forwarded: bool,
    escalated: Option<Signal>,
}

impl Stopper {
    /// Handles the signals that arrived since the last call; forwards the stop once the trainer
    /// is ready.
    pub(super) fn poll(&mut self, process: &TrainerProcess, term: &Terminal) {
        for (i, &sig) in STOP_SIGNALS.iter().enumerate() {
            let n = RECEIVED[i].load(Ordering::SeqCst);
            while self.handled[i] < n {
                self.handled[i] += 1;
                self.received_one(sig, process, term);
            }
        }
        if let Some(first) = self.first
            && !self.forwarded
            && self.escalated.is_none()
            && term.ready
        {
            self.forwarded = true;
            if let Err(e) = process.signal(forwarded_as(first)) {
                // Gone already: its exit is reported next.
                tracing::info!("{e}");
            }
        }
    }

    fn received_one(&mut self, sig: Signal, process: &TrainerProcess, term: &Terminal) {
        let say = |text: String| term.bar.suspend(|| err_line(text));
        match self.first {
            None => {
                self.first = Some(sig);
                let when = if term.ready {
                    ""
                } else {
                    " (as soon as it has started)"
                };
                say(format!(
                    "{sig} received: the trainer stops after its current step and writes a \
                     checkpoint{when}; Ctrl-C or SIGTERM again ends it at once, losing the steps \
                     since its last checkpoint"
                ));
            }
            Some(_) if sig == Signal::SIGHUP => {}
            Some(_) if self.escalated.is_none() => {
                self.escalated = Some(sig);
                process.kill();
                say(format!("{sig} received again: ending the trainer now"));
            }
            Some(_) => {}
        }
    }

    /// The first stop signal received, if any.
    pub(super) fn received(&self) -> Option<Signal> {
        self.first
    }

    /// The signal that ended the trainer at once, if any.
    pub(super) fn escalated(&self) -> Option<Signal> {
        self.escalated
    }
}

/// The end of a run that was asked to stop: where its checkpoint is, how to continue, and the
/// exit status (see the module comment).
pub(super) fn report(
    term: &Terminal,
    args: &[OsString],
    exit: ExitInfo,
    received: Signal,
    escalated: Option<Signal>,
) -> anyhow::Result<()> {
    if escalated.is_none() && exit.success() && term.finished && term.stopped.is_none() {
        err_line(format!(
            "{received} received, but the trainer had already finished all its steps"
        ));
        return Ok(());
    }
    if escalated.is_none() && !exit.success() {
        if !term.saw_error {
            for line in &term.stderr_tail {
                err_line(line);
            }
            err_line(format!(
                "error: the trainer ended with {exit} after {received} was forwarded to it"
            ));
        }
        return Err(Exit(exit.shell_code()).into());
    }
    let checkpoint = match (&term.stopped, &term.last_checkpoint) {
        (Some((step, _, Some(path))), _) if escalated.is_none() => Some((*step, path.clone())),
        (_, Some((step, path))) => Some((*step, path.clone())),
        _ => None,
    }
    .filter(|(_, path)| path.is_file());
    let how = match escalated {
        Some(again) => format!("ended at once by a second {again}"),
        None => format!("stopped by {received}"),
    };
    match checkpoint {
        Some((step, path)) => {
            let run = super::run_dir(term, args, Some(&path));
            err_line(format!(
                "training {how}; checkpoint at step {step}: {}",
                std::path::absolute(&path).unwrap_or(path).display()
            ));
            err_line(format!("continue with: {}", resume_command(args, &run)));
        }
        None => err_line(format!(
            "training {how} before its first checkpoint: nothing to continue from; start the \
             run again"
        )),
    }
    Err(Exit(128 + received as i32).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hang_ups_are_forwarded_as_sigterm() {
        assert_eq!(forwarded_as(Signal::SIGHUP), Signal::SIGTERM);
        assert_eq!(forwarded_as(Signal::SIGINT), Signal::SIGINT);
        assert_eq!(forwarded_as(Signal::SIGTERM), Signal::SIGTERM);
    }
}
