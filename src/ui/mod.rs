//! The egui/eframe GUI.
//!
//! [`AppState`] is what the user chose (serialisable, persisted by eframe); [`Runtime`] holds
//! the resources (inference worker, textures, the painting and its history, dialogs). Each
//! part of the window is a `*_ui` function that draws and pushes [`Command`]s;
//! [`SceneBrushApp::apply_commands`] carries them out after the UI pass.
mod app;
mod canvas;
mod command;
mod compare;
mod files;
mod menu;
mod palette;
mod photo;
mod results;
mod runtime;
mod shortcuts;
mod state;
mod status_bar;
mod toolbar;
mod train;
mod training;
mod windows;

use std::path::PathBuf;

pub use app::SceneBrushApp;
pub use canvas::CANVAS_LABEL;
pub use command::{Command, MapPos, SaveKind, Stroke, TrainCommand, TrainPick};
pub use compare::{compare_ready, grid_cells};
pub use photo::{class_mismatch, fit_to_canvas};
pub use runtime::{
    DialogPurpose, Document, ErrorReport, LoadState, ModelView, PendingDialog, RenderKey, Runtime,
    default_scene, example_layouts, fallback_classes,
};
pub use state::{AppState, MAX_COMPARE, View};
pub use train::training_summary;
pub use training::{ActiveRun, CheckState, SampleView, SetupJob, TrainingRuntime};

/// Window title and the name eframe stores settings under.
pub const APP_NAME: &str = "SceneBrush";

/// Comma-separated model ids: start in the compare view with these (scripts, screenshots).
pub const COMPARE_ENV: &str = "SCENEBRUSH_COMPARE";

/// What the GUI is started with.
#[derive(Debug, Clone, Default)]
pub struct AppArgs {
    pub model_dirs: Vec<PathBuf>,
    pub labels: Option<PathBuf>,
    pub provider: crate::inference::ProviderPreference,
    /// Where the layout being painted is kept across restarts; `None` keeps nothing.
    pub session_file: Option<PathBuf>,
}

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

/// Opens the main window and runs until it is closed.
pub fn run_app(args: AppArgs) -> anyhow::Result<()> {
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
            let runtime = Runtime::new(&args, &mut state);
            Ok(Box::new(SceneBrushApp::new(state, runtime)))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "cannot open the SceneBrush window: {e}. Without a display, run it under Xvfb \
             (xvfb-run scenebrush); the command-line subcommands (render, compare) need no window"
        )
    })
}
