//! The egui/eframe GUI, in layers whose imports point one way (docs/architecture.md):
//!
//! - [`state`]: what the user chose ([`AppState`], serialisable, persisted by eframe) and the
//!   [`Command`]s the views emit;
//! - [`resources`]: what the app holds at run time (models and their sessions, the painting,
//!   jobs, the trainer), without egui;
//! - [`actions`]: carry the commands out on state and resources, after the UI pass;
//! - [`views`]: draw from state and resources and push commands (`*_ui` functions).
//!
//! [`SceneBrushApp`] (app.rs) owns one of each and runs the frame.
pub mod actions;
mod app;
pub mod resources;
pub mod state;
pub mod views;

use std::path::PathBuf;

pub use app::SceneBrushApp;
pub use resources::{
    AppArgs, CheckState, DialogPurpose, EditSession, ErrorReport, LoadState, ModelStyle,
    PendingDialog, TrainingRuntime,
};
pub use state::{
    AppState, Command, EditView, MAX_COMPARE, SaveKind, StyleChoice, TrainCommand, TrainPick, View,
};
pub use views::{
    CANVAS_LABEL, EXPORT_EDITED, EXPORT_FULL_SIZE, SAVE_STYLE, STOP_EDITING, STYLE_FROM_PHOTO,
    USE_INT8,
};

/// Window title and the name eframe stores settings under.
pub const APP_NAME: &str = "SceneBrush";

/// Comma-separated model ids: start in the compare view with these (scripts, screenshots).
pub const COMPARE_ENV: &str = "SCENEBRUSH_COMPARE";

/// The per-user session file: the layout being painted when the app last saved its state.
pub fn default_session_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "SceneBrush")
        .map(|d| d.data_dir().join("session").join("layout.png"))
}

/// Applies `$SCENEBRUSH_COMPARE` (if set) to the starting state.
fn apply_compare_env(state: &mut AppState) {
    let Some(value) = std::env::var_os(COMPARE_ENV) else {
        return;
    };
    let ids: Vec<String> = value
        .to_string_lossy()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !ids.is_empty() {
        state.compare_models = ids;
        state.view = View::Compare;
    }
}

/// Opens the main window and runs until it is closed. `precision` (`--precision`), when given,
/// replaces the "Use int8 models when available" setting.
pub fn run_app(args: AppArgs, precision: Option<crate::models::Precision>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(APP_NAME)
            .with_app_id("scenebrush")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([900.0, 560.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native(
        APP_NAME,
        options,
        Box::new(move |cc| {
            let mut state: AppState = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            apply_compare_env(&mut state);
            if let Some(precision) = precision {
                state.precision = precision;
            }
            Ok(Box::new(SceneBrushApp::new(&args, state)))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the SceneBrush window: {e}. Without a display, run it under Xvfb \
             (xvfb-run scenebrush); the command-line subcommands (render, compare) need no window"
        )
    })
}
