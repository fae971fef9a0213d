//! What the app tells the user: an error (shown in full in a window and in short in the status
//! bar, until dismissed) and a short confirmation (in the status bar for a few seconds).

use std::time::{Duration, Instant};

/// How long a confirmation stays in the status bar.
pub const NOTICE_DURATION: Duration = Duration::from_secs(6);

/// A message that can be shown in full (error panel) and in short (status bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub title: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Messages {
    pub error: Option<ErrorReport>,
    /// Short confirmation shown in the status bar ("Saved ...") and when it was given.
    pub notice: Option<(String, Instant)>,
}

impl Messages {
    pub fn show_error(&mut self, title: impl Into<String>, message: impl Into<String>) {
        let report = ErrorReport {
            title: title.into(),
            message: message.into(),
        };
        tracing::warn!("{}: {}", report.title, report.message);
        self.error = Some(report);
    }

    pub fn show_notice(&mut self, text: impl Into<String>) {
        self.notice = Some((text.into(), Instant::now()));
    }

    /// The confirmation while it is shown.
    pub fn current_notice(&self) -> Option<&str> {
        self.notice
            .as_ref()
            .filter(|(_, at)| at.elapsed() < NOTICE_DURATION)
            .map(|(text, _)| text.as_str())
    }

    /// How long the confirmation stays on screen (a frame is due then).
    pub fn notice_left(&self) -> Option<Duration> {
        let (_, at) = self.notice.as_ref()?;
        Some(NOTICE_DURATION.saturating_sub(at.elapsed())).filter(|d| !d.is_zero())
    }
}
