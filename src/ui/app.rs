//! The app: the state, the runtime resources and the views' memory. Each frame takes in what
//! helper threads reported (actions), draws the window (views, which push commands), then
//! carries the commands out (actions) and sends the renders that are due.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::canvas::LabelMap;
use crate::io::GridCell;
use crate::models::{ClassInfo, ModelPackage};
use crate::style::Style;
use crate::training::TrainerSetup;

use super::actions;
use super::resources::{
    AppArgs, EditSession, ErrorReport, LoadState, ModelStyle, OverwriteQuestion, PendingDialog,
    RenderKey, RenderResult, Resources, StylePreview, TrainingRuntime, fingerprint,
};
use super::state::{AppState, CanvasViewport, Command};
use super::views::{self, ViewMemory};

pub struct SceneBrushApp {
    state: AppState,
    viewport: CanvasViewport,
    res: Resources,
    memory: ViewMemory,
    /// The style is set (first frame).
    styled: bool,
    /// What the command line asked the GUI to do once it is up (`--edit-photo`, `--style-photo`).
    start_commands: Vec<Command>,
    /// `--edit-layout`: applied once the edit `--edit-photo` starts is in place (dropped if it
    /// could not start; its error says why).
    start_edit_layout: Option<std::path::PathBuf>,
}

impl SceneBrushApp {
    /// The app for `state` (as persisted), its resources started from `args`
    /// ([`Resources::start`]).
    pub fn new(args: &AppArgs, mut state: AppState) -> Self {
        let res = Resources::start(args, &mut state);
        let start_commands = [
            args.edit_photo.clone().map(|p| Command::EditPhoto(Some(p))),
            args.style_photo
                .clone()
                .map(|p| Command::StyleFromPhoto(Some(p))),
        ]
        .into_iter()
        .flatten()
        .collect();
        Self {
            state,
            viewport: CanvasViewport::default(),
            res,
            memory: ViewMemory::default(),
            styled: false,
            start_commands,
            start_edit_layout: args.edit_photo.as_ref().and(args.edit_layout.clone()),
        }
    }

    /// The Train tab with this trainer and these folders (tests: a fake trainer in a temporary
    /// folder).
    pub fn with_training(mut self, training: TrainingRuntime) -> Self {
        self.res.training = training;
        self
    }

    /// Runs the trainer this way from now on (as if the environment had changed).
    pub fn set_trainer(&mut self, setup: TrainerSetup) {
        self.res.training.setup = setup;
    }

    /// Lets the worker and the trainer ask for frames.
    fn ensure_waker(&mut self, ctx: &egui::Context) {
        if self.res.waker.is_none() {
            let ctx = ctx.clone();
            self.res.set_waker(Arc::new(move || ctx.request_repaint()));
        }
    }

    /// Work that needs no drawing: what the worker, jobs and dialogs reported, dropped files.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if !self.styled {
            self.styled = true;
            setup_style(ctx);
        }
        self.ensure_waker(ctx);
        let polled = actions::poll(&mut self.state, &mut self.res);
        if polled.changed {
            ctx.request_repaint();
        }
        if polled.waiting {
            // The segmentation, the dataset check and file dialogs report through channels
            // without a wake-up.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        let mut commands = std::mem::take(&mut self.start_commands);
        // The start edit's photo job has ended (the start commands ran first).
        if commands.is_empty()
            && self.res.photo_job.is_none()
            && let Some(path) = self.start_edit_layout.take()
            && self.res.edit.is_some()
        {
            commands.push(Command::ApplyEditedLayout(path));
        }
        commands.extend(polled.commands);
        views::dropped_files_ui(ctx, &self.memory, &mut commands);
        self.apply_commands(ctx, commands);
    }

    /// One frame of the GUI: textures brought up to date, the window drawn, its commands
    /// carried out, renders sent.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let changes = self.res.doc.take_changes();
        views::sync_textures(&ctx, &self.state, &self.res, changes, &mut self.memory);
        let commands = views::frame_ui(
            ui,
            &self.state,
            &mut self.viewport,
            &self.res,
            &mut self.memory,
        );
        self.apply_commands(&ctx, commands);
        actions::update(&self.state, &mut self.res);
        if let Some(left) = self.res.messages.notice_left() {
            ctx.request_repaint_after(left);
        }
        if self.res.quit_requested {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// Carries out what the UI (or a test, or a script) asked for.
    pub fn apply_commands(&mut self, ctx: &egui::Context, commands: Vec<Command>) {
        if commands.is_empty() {
            return;
        }
        self.ensure_waker(ctx);
        ctx.request_repaint();
        for command in commands {
            actions::apply(command, &mut self.state, &mut self.viewport, &mut self.res);
        }
    }

    /// The app waits for this dialog's answer, as for one it opened (tests stand in for the
    /// native dialog's thread).
    pub fn await_dialog(&mut self, dialog: PendingDialog) {
        self.res.dialog = Some(dialog);
    }

    /// Writes the layout to the session file if it changed since the last write. Returns
    /// whether it wrote.
    pub fn save_session(&mut self) -> Result<bool, crate::io::IoError> {
        self.res.session.save(&self.res.doc)
    }

    /// Shows these timings instead of the measured ones (snapshots compare the window, not the
    /// machine's speed).
    pub fn pin_timings(&mut self, latency_ms: f64, load_ms: f64) {
        self.res.models.pin_timings(latency_ms, load_ms);
    }

    // What the app shows, for tests, benchmarks and scripts.

    /// What the user chose.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The layout being painted.
    pub fn labels(&self) -> &LabelMap {
        &self.res.doc.labels
    }

    /// The classes the canvas paints with.
    pub fn classes(&self) -> &[ClassInfo] {
        &self.res.doc.classes
    }

    /// The id of the canvas's class with this name (case-insensitive).
    pub fn class_id(&self, name: &str) -> Option<u8> {
        self.res.doc.class_named(name)
    }

    /// The colours of the canvas's classes.
    pub fn palette(&self) -> &crate::canvas::Palette {
        &self.res.doc.palette
    }

    /// The class the eraser paints.
    pub fn dontcare(&self) -> Option<u8> {
        self.res.doc.dontcare
    }

    /// The file the layout came from, if any.
    pub fn layout_source(&self) -> Option<&Path> {
        self.res.doc.source.as_deref()
    }

    /// Counts the layout's changes.
    pub fn layout_version(&self) -> u64 {
        self.res.doc.version
    }

    pub fn undo_len(&self) -> usize {
        self.res.doc.history.undo_len()
    }

    /// A brush stroke is in progress.
    pub fn stroke_in_progress(&self) -> bool {
        self.res.doc.stroke.is_some()
    }

    /// The generators that can be chosen (usable or not), in the order they are listed.
    pub fn model_ids(&self) -> Vec<String> {
        self.res
            .models
            .model_choices()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    pub fn model_name(&self, id: &str) -> String {
        self.res.models.model_name(id)
    }

    /// The package of a generator.
    pub fn package(&self, id: &str) -> Option<&ModelPackage> {
        self.res.models.package(id)
    }

    pub fn is_usable(&self, id: &str) -> bool {
        self.res.models.is_usable(id)
    }

    pub fn unusable_reason(&self, id: &str) -> Option<String> {
        self.res.models.unusable_reason(id)
    }

    /// A generator's session.
    pub fn load_state(&self, id: &str) -> Option<&LoadState> {
        self.res.models.get(id).map(|g| &g.load)
    }

    /// A generator's latest image.
    pub fn result(&self, id: &str) -> Option<&RenderResult> {
        self.res.models.result(id)
    }

    /// A render request to this generator is out whose answer has not arrived.
    pub fn rendering(&self, id: &str) -> bool {
        self.res.models.get(id).is_some_and(|g| g.is_busy())
    }

    /// A generator's last render error and the layout and seed it was for.
    pub fn render_error(&self, id: &str) -> Option<&(RenderKey, String)> {
        self.res.models.get(id).and_then(|g| g.error.as_ref())
    }

    /// The generators' sessions and render errors, one line each (for failure messages).
    pub fn models_status(&self) -> Vec<String> {
        self.res
            .models
            .states()
            .map(|(id, g)| format!("{id}: {:?}, error {:?}", g.load, g.error))
            .collect()
    }

    /// The current layout and seed.
    pub fn render_key(&self) -> RenderKey {
        self.res.render_key(&self.state)
    }

    /// The current layout and style of model `id`.
    pub fn render_key_for(&self, id: &str) -> RenderKey {
        self.res.render_key_for(&self.state, id)
    }

    /// The style model `id` renders with now (or why it falls back to the seed).
    pub fn model_style(&self, id: &str) -> ModelStyle {
        self.res.model_style(&self.state, id)
    }

    /// A photo's style is being taken by style encoders.
    pub fn taking_style(&self) -> bool {
        self.res.styles.job.is_some()
    }

    /// Why no model on screen can take a photo's style, if none can.
    pub fn no_style_encoder(&self) -> Option<String> {
        self.res.no_encoder_reason(&self.state)
    }

    /// The preview of the kept style `style` rendered by model `id` (of some layout version).
    pub fn style_preview(&self, id: &str, style: &Style) -> Option<&StylePreview> {
        self.res
            .models
            .get(id)
            .and_then(|g| g.previews.get(&fingerprint(style)))
    }

    /// The photo being edited: the photo, its layout, the mask and the edited photo shown.
    pub fn editing(&self) -> Option<&EditSession> {
        self.res.edit.as_ref()
    }

    /// A full-size edited photo is being written.
    pub fn exporting(&self) -> bool {
        self.res.export_job.is_some()
    }

    /// Every compared model (at least two) shows the current layout and seed.
    pub fn compare_ready(&self) -> bool {
        self.res.compare_ready(&self.state)
    }

    /// The comparison grid's images and captions, once ready.
    pub fn grid_cells(&self) -> Option<Vec<GridCell>> {
        actions::grid_cells(&self.state, &self.res)
    }

    /// True when every model on screen shows the current layout and seed (or has failed).
    pub fn renders_settled(&self) -> bool {
        self.res.renders_settled(&self.state)
    }

    /// True when no model is still loading and every model on screen shows the current layout:
    /// what tests and benchmarks wait for.
    pub fn settled(&self) -> bool {
        !self.res.models.any_loading() && self.renders_settled()
    }

    /// The error shown, until dismissed.
    pub fn error(&self) -> Option<&ErrorReport> {
        self.res.messages.error.as_ref()
    }

    /// The last confirmation given (shown in the status bar for a few seconds).
    pub fn notice(&self) -> Option<&str> {
        self.res
            .messages
            .notice
            .as_ref()
            .map(|(text, _)| text.as_str())
    }

    /// A save waiting for "replace the existing file?".
    pub fn overwrite_question(&self) -> Option<&OverwriteQuestion> {
        self.res.overwrite.as_ref()
    }

    /// A file dialog is waiting for its answer.
    pub fn dialog_open(&self) -> bool {
        self.res.dialog.is_some()
    }

    /// A photo is being segmented.
    pub fn segmenting(&self) -> bool {
        self.res.photo_job.is_some()
    }

    /// The Train tab's trainer, run, check and setup.
    pub fn training(&self) -> &TrainingRuntime {
        &self.res.training
    }

    /// The loss plot's bounds in the last frame it was drawn: (min, max) of (step, loss).
    pub fn loss_plot_bounds(&self) -> Option<([f64; 2], [f64; 2])> {
        self.memory.plot_bounds
    }

    /// Canvas zoom on screen (points per label pixel).
    pub fn canvas_zoom(&self) -> f32 {
        self.viewport.shown_zoom
    }

    /// Canvas pan: the offset of its centre from the centre of its area, in points.
    pub fn canvas_pan(&self) -> egui::Vec2 {
        self.viewport.pan
    }

    /// Screen position of a label-map position in the last frame (for tests and tools).
    pub fn canvas_to_screen(&self, x: f32, y: f32) -> egui::Pos2 {
        let rect = self.memory.canvas.image_rect;
        let zoom = self.viewport.shown_zoom;
        egui::pos2(rect.min.x + x * zoom, rect.min.y + y * zoom)
    }
}

impl eframe::App for SceneBrushApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        SceneBrushApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        SceneBrushApp::ui(self, ui);
    }

    /// eframe calls this every 30 s and on exit: the settings and the layout being painted.
    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
        if let Err(e) = self.save_session() {
            tracing::warn!("layout not kept for the next session: {e}");
            self.res
                .messages
                .show_notice(format!("Could not keep the layout for next time: {e}"));
        }
    }
}

/// A calm dark theme with a bit more room than egui's default.
pub fn setup_style(ctx: &egui::Context) {
    ctx.set_theme(egui::Theme::Dark);
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
        style.spacing.interact_size.y = 22.0;
    });
}
