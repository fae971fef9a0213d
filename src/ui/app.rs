//! The app: state + runtime, one UI pass that collects commands, then `apply_commands`.

use std::time::Duration;

use egui::Panel;

use crate::canvas::{Tool, draw_line, fill_rect, flood_fill, paint_disc, paint_stroke, pick_class};

use super::canvas::{canvas_header_ui, canvas_ui, sync_canvas_texture};
use super::command::{Command, Stroke};
use super::compare::compare_ui;
use super::files::{open_layout, poll_dialog, ready_to_save, save_file, start_dialog};
use super::menu::menu_bar_ui;
use super::palette::palette_ui;
use super::photo::{poll_photo_job, start_photo_job};
use super::results::results_ui;
use super::runtime::{DialogPurpose, LoadState, Runtime, default_scene};
use super::shortcuts::shortcuts_ui;
use super::state::{AppState, BRUSH_SIZES, MAX_COMPARE, View, ZOOM_RANGE, draw_seed};
use super::status_bar::{NOTICE_DURATION, status_bar_ui, visible_models};
use super::toolbar::toolbar_ui;
use super::train::{train_run_ui, train_settings_ui};
use super::training::{apply_train_command, poll_training};
use super::windows::{error_window, models_window, overwrite_modal, shortcuts_window};

/// During a stroke, renders go out at most this often (the worker drops stale ones anyway).
const LIVE_RENDER_INTERVAL: Duration = Duration::from_millis(40);
const LEFT_PANEL_WIDTH: f32 = 236.0;

pub struct SceneBrushApp {
    pub state: AppState,
    pub runtime: Runtime,
}

impl SceneBrushApp {
    pub fn new(state: AppState, runtime: Runtime) -> Self {
        Self { state, runtime }
    }

    /// Work that needs no drawing: worker events, dialogs, dropped files.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if !self.runtime.wake_installed {
            self.runtime.wake_installed = true;
            setup_style(ctx);
            if let Some(worker) = &self.runtime.worker {
                let ctx = ctx.clone();
                worker.set_wake(Box::new(move || ctx.request_repaint()));
            }
        }
        if self.runtime.poll_worker(ctx) {
            self.keep_active_model_usable();
        }
        if poll_photo_job(&mut self.state, &mut self.runtime) {
            ctx.request_repaint();
        }
        if self.runtime.photo_job.is_some() || self.runtime.training.check.is_some() {
            // The segmentation and the dataset check report through channels without a wake-up.
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        let update = poll_training(ctx, &mut self.runtime.training);
        if update.changed {
            ctx.request_repaint();
        }
        if let Some((path, base)) = update.exported {
            self.model_trained(&path, base);
        }
        let mut commands = Vec::new();
        if let Some(command) = poll_dialog(&mut self.runtime) {
            commands.push(command);
        }
        if self.runtime.dialog.is_some() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if let Some(file) = dropped.first() {
            let path = file.path().to_path_buf();
            // A JPEG is a photo, never a label map: it is segmented into a layout.
            let is_jpeg = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
            commands.push(if is_jpeg {
                Command::OpenPhoto(Some(path))
            } else {
                Command::Open(Some(path))
            });
        }
        self.apply_commands(ctx, commands);
    }

    /// One frame of the GUI.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        sync_canvas_texture(&ctx, &mut self.runtime.doc, &mut self.runtime.canvas);
        let mut commands = Vec::new();
        shortcuts_ui(&ctx, &mut commands);

        let state = &self.state;
        let rt = &mut self.runtime;
        Panel::top("menu-bar").show(ui, |ui| menu_bar_ui(ui, state, rt, &mut commands));
        Panel::bottom("status-bar").show(ui, |ui| status_bar_ui(ui, state, rt));
        if state.view == View::Train {
            // Training has its own screen; painting waits in the other tabs meanwhile.
            Panel::left("train-settings")
                .resizable(true)
                .default_size(380.0)
                .size_range(320.0..=640.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("train-settings-scroll")
                        .show(ui, |ui| train_settings_ui(ui, state, rt, &mut commands));
                });
            egui::CentralPanel::default().show(ui, |ui| train_run_ui(ui, rt, &mut commands));
            self.finish_frame(&ctx, commands);
            return;
        }
        Panel::left("tools-panel")
            .resizable(false)
            .exact_size(LEFT_PANEL_WIDTH)
            .show(ui, |ui| {
                ui.add_space(6.0);
                toolbar_ui(ui, state, &rt.doc.history, &mut commands);
                ui.add_space(6.0);
                ui.separator();
                palette_ui(ui, state, &rt.doc, &mut commands);
            });
        match state.view {
            View::Paint => {
                Panel::right("results-paint")
                    .default_size(440.0)
                    .size_range(280.0..=900.0)
                    .show(ui, |ui| {
                        ui.add_space(6.0);
                        results_ui(ui, state, rt, &mut commands);
                    });
            }
            View::Compare => {
                Panel::right("results-compare")
                    .default_size(460.0)
                    .size_range(320.0..=1200.0)
                    .show(ui, |ui| {
                        ui.add_space(6.0);
                        compare_ui(ui, state, rt, &mut commands);
                    });
            }
            View::Train => {}
        }
        egui::CentralPanel::default().show(ui, |ui| {
            canvas_header_ui(ui, state, &rt.doc, &rt.canvas, &mut commands);
            canvas_ui(ui, state, &rt.doc, &mut rt.canvas, &mut commands);
        });

        self.finish_frame(&ctx, commands);
    }

    /// The windows over every view, then the frame's commands and renders.
    fn finish_frame(&mut self, ctx: &egui::Context, mut commands: Vec<Command>) {
        let ctx = ctx.clone();
        let (state, rt) = (&self.state, &self.runtime);
        models_window(&ctx, state, rt, &mut commands);
        shortcuts_window(&ctx, state, &mut commands);
        error_window(&ctx, rt, &mut commands);
        overwrite_modal(&ctx, rt, &mut commands);

        self.apply_commands(&ctx, commands);
        self.schedule_renders();
        if let Some((_, at)) = &self.runtime.notice {
            let left = NOTICE_DURATION.saturating_sub(at.elapsed());
            if !left.is_zero() {
                ctx.request_repaint_after(left);
            }
        }
        if self.runtime.quit_requested {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// Carries out what the UI asked for.
    pub fn apply_commands(&mut self, ctx: &egui::Context, commands: Vec<Command>) {
        for command in commands {
            self.apply(ctx, command);
        }
    }

    fn apply(&mut self, ctx: &egui::Context, command: Command) {
        ctx.request_repaint();
        if let Command::SetActiveModel(id) = &command {
            self.set_active_model(id);
            return;
        }
        let Self { state, runtime: rt } = self;
        let radius = state.brush_size * 0.5;
        let class = if state.tool == Tool::Eraser {
            rt.doc.erase_class()
        } else {
            state.active_class
        };
        let doc = &mut rt.doc;
        match command {
            Command::SetTool(tool) => state.tool = tool,
            Command::SetBrushSize(size) => {
                state.brush_size = size.clamp(*BRUSH_SIZES.start(), *BRUSH_SIZES.end());
            }
            Command::StepBrushSize(step) => {
                // Multiplicative steps feel even from 1 px to 96 px.
                let factor = if step > 0 { 1.25 } else { 0.8 };
                let size = (state.brush_size * factor).round();
                let size = if size == state.brush_size {
                    size + step.signum() as f32
                } else {
                    size
                };
                state.brush_size = size.clamp(*BRUSH_SIZES.start(), *BRUSH_SIZES.end());
            }
            Command::SelectClass(id) => {
                if doc.classes.iter().any(|c| c.id == id) {
                    state.active_class = id;
                }
            }
            Command::Stroke(Stroke::Begin(p)) => {
                doc.history.record(&doc.labels);
                let dirty = paint_disc(&mut doc.labels, p.0, p.1, radius, class);
                doc.touched(dirty);
                doc.stroke = Some(p);
            }
            Command::Stroke(Stroke::To(p)) => {
                if let Some(prev) = doc.stroke {
                    let dirty = paint_stroke(&mut doc.labels, prev, p, radius, class);
                    doc.touched(dirty);
                    doc.stroke = Some(p);
                }
            }
            Command::Stroke(Stroke::End) => {
                if doc.stroke.take().is_some() {
                    doc.history.commit(&doc.labels);
                }
            }
            Command::Fill(p) => {
                if p.0 >= 0.0 && p.1 >= 0.0 {
                    doc.history.record(&doc.labels);
                    let dirty = flood_fill(&mut doc.labels, p.0 as u32, p.1 as u32, class);
                    doc.history.commit(&doc.labels);
                    doc.touched(dirty);
                }
            }
            Command::Line { from, to } => {
                doc.history.record(&doc.labels);
                let dirty = draw_line(&mut doc.labels, from, to, radius, class);
                doc.history.commit(&doc.labels);
                doc.touched(dirty);
            }
            Command::Rect { a, b } => {
                doc.history.record(&doc.labels);
                let dirty = fill_rect(&mut doc.labels, a, b, class);
                doc.history.commit(&doc.labels);
                doc.touched(dirty);
            }
            Command::Pick(p) => {
                if let Some(id) = pick_class(&doc.labels, p.0, p.1) {
                    state.active_class = id;
                }
            }
            Command::Undo => {
                if doc.stroke.is_none() && doc.history.undo(&mut doc.labels) {
                    doc.replaced();
                }
            }
            Command::Redo => {
                if doc.stroke.is_none() && doc.history.redo(&mut doc.labels) {
                    doc.replaced();
                }
            }
            Command::Clear => {
                let (w, h) = (doc.labels.width(), doc.labels.height());
                let blank = crate::canvas::LabelMap::new(w, h, doc.erase_class());
                doc.replace_labels(blank);
            }
            Command::NewScene => {
                let (w, h) = (doc.labels.width(), doc.labels.height());
                let scene = default_scene(w, h, &doc.classes);
                doc.replace_labels(scene);
                doc.source = None;
            }
            Command::SetView(view) => state.view = view,
            Command::SetActiveModel(_) => {}
            Command::ToggleCompare(id) => {
                if let Some(i) = state.compare_models.iter().position(|m| *m == id) {
                    state.compare_models.remove(i);
                } else if state.compare_models.len() < MAX_COMPARE && rt.is_usable(&id) {
                    state.compare_models.push(id);
                }
            }
            Command::NewStyle => {
                if !state.seed_locked {
                    state.seed = draw_seed(state.seed);
                }
            }
            Command::SetSeed(seed) => state.seed = seed,
            Command::SetSeedLocked(locked) => state.seed_locked = locked,
            Command::SetLivePreview(live) => state.live_preview = live,
            Command::SetCanvasView { zoom, pan } => {
                state.zoom_fit = false;
                state.zoom = zoom.clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end());
                rt.canvas.pan = pan;
            }
            Command::ZoomBy(factor) => {
                let base = if rt.canvas.effective_zoom > 0.0 {
                    rt.canvas.effective_zoom
                } else {
                    state.zoom
                };
                let zoom = (base * factor).clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end());
                if !state.zoom_fit {
                    rt.canvas.pan *= zoom / base;
                } else {
                    rt.canvas.pan = egui::Vec2::ZERO;
                }
                state.zoom_fit = false;
                state.zoom = zoom;
            }
            Command::ZoomFit => {
                state.zoom_fit = true;
                rt.canvas.pan = egui::Vec2::ZERO;
            }
            Command::ZoomActual => {
                state.zoom_fit = false;
                state.zoom = 1.0;
                rt.canvas.pan = egui::Vec2::ZERO;
            }
            Command::Open(None) => start_dialog(DialogPurpose::Open, state, rt),
            Command::Open(Some(path)) => {
                if doc.stroke.is_none() {
                    open_layout(&path, state, rt);
                }
            }
            Command::OpenPhoto(None) => start_dialog(DialogPurpose::OpenPhoto, state, rt),
            Command::OpenPhoto(Some(path)) => start_photo_job(&path, state, rt),
            Command::RescanModels => {
                let added = rt.rescan_models();
                if added.is_empty() {
                    rt.show_notice("No new models found");
                } else {
                    rt.show_notice(format!("Added {}", added.join(", ")));
                }
            }
            Command::Train(command) => apply_train_command(ctx, command, state, rt),
            Command::Save {
                kind, path: None, ..
            } => {
                if ready_to_save(kind, state, rt) {
                    start_dialog(DialogPurpose::Save(kind), state, rt);
                }
            }
            Command::Save {
                kind,
                path: Some(path),
                overwrite,
            } => save_file(kind, path, overwrite, state, rt),
            Command::ConfirmOverwrite(replace) => {
                if let Some(question) = rt.overwrite.take()
                    && replace
                {
                    save_file(question.kind, question.path, true, state, rt);
                }
            }
            Command::DismissError => rt.error = None,
            Command::ShowModelsWindow(show) => state.show_models_window = show,
            Command::ShowShortcutsWindow(show) => state.show_shortcuts_window = show,
            Command::Quit => rt.quit_requested = true,
        }
    }

    /// Makes `id` the model the canvas paints for: its classes become the palette and the
    /// layout is brought to its size (one undo step) when that differs.
    pub fn set_active_model(&mut self, id: &str) {
        let rt = &mut self.runtime;
        if !rt.is_usable(id) {
            return;
        }
        let Some(meta) = rt.package(id).map(|p| p.meta.clone()) else {
            return;
        };
        let doc = &mut rt.doc;
        if doc.classes != meta.classes || doc.dontcare != meta.dontcare {
            doc.set_classes(meta.classes.clone(), meta.dontcare);
        }
        if (doc.labels.width(), doc.labels.height()) != (meta.width, meta.height) {
            let resized = doc.labels.resized_nearest(meta.width, meta.height);
            doc.replace_labels(resized);
        }
        if self.state.active_class as usize >= doc.classes.len() {
            self.state.active_class = 0;
        }
        self.state.active_model = Some(id.to_string());
    }

    /// A training run exported a package: it joins the model list, and the compare view opens
    /// with the model it started from (else the active one) beside it.
    pub fn model_trained(&mut self, dir: &std::path::Path, base: Option<String>) {
        let id = match self.runtime.add_package(dir) {
            Ok(id) => id,
            Err(e) => {
                self.runtime
                    .show_error("The trained model cannot be used", e);
                return;
            }
        };
        let reference = base
            .filter(|b| self.runtime.is_usable(b))
            .or_else(|| self.state.active_model.clone().filter(|a| *a != id));
        let mut compare: Vec<String> = reference.into_iter().collect();
        compare.push(id.clone());
        self.state.compare_models = compare;
        self.state.view = View::Compare;
        if self.state.active_model.is_none() {
            self.set_active_model(&id);
        }
        self.runtime.show_notice(format!(
            "Trained model {id} added; comparing it with its base"
        ));
    }

    /// When the active model fails to load, the first usable one takes over.
    pub fn keep_active_model_usable(&mut self) {
        let active_ok = self
            .state
            .active_model
            .as_deref()
            .is_some_and(|id| self.runtime.is_usable(id));
        if active_ok {
            return;
        }
        let next = self
            .runtime
            .model_choices()
            .into_iter()
            .map(|(id, _)| id)
            .find(|id| self.runtime.is_usable(id));
        match next {
            Some(id) => self.set_active_model(&id),
            None => self.state.active_model = None,
        }
    }

    /// Sends the current layout and seed to every model on screen whose image is out of date.
    /// While a stroke is in progress, only to models that are idle (live preview); the final
    /// state always goes out when the stroke ends.
    pub fn schedule_renders(&mut self) {
        let key = self.runtime.render_key(&self.state);
        let stroking = self.runtime.doc.stroke.is_some();
        for id in visible_models(&self.state) {
            let Some(view) = self.runtime.models.get(&id) else {
                continue;
            };
            if matches!(view.load, LoadState::Failed(_)) || view.submitted == Some(key) {
                continue;
            }
            if stroking
                && (!self.state.live_preview
                    || view.is_busy()
                    || view
                        .submitted_at
                        .is_some_and(|t| t.elapsed() < LIVE_RENDER_INTERVAL))
            {
                continue;
            }
            self.runtime.submit(&id, key);
        }
    }

    /// True when every model on screen shows the current layout and seed (or has failed).
    pub fn renders_settled(&self) -> bool {
        let key = self.runtime.render_key(&self.state);
        visible_models(&self.state).iter().all(|id| {
            self.runtime.models.get(id).is_none_or(|m| match &m.load {
                LoadState::Failed(_) => true,
                _ => {
                    m.result.as_ref().is_some_and(|r| r.key == key)
                        || m.error.as_ref().is_some_and(|(k, _)| *k == key)
                }
            })
        })
    }

    /// True when no model is still loading and every model on screen shows the current layout:
    /// what tests and benchmarks wait for.
    pub fn settled(&self) -> bool {
        let loaded = self
            .runtime
            .models
            .values()
            .all(|m| !matches!(m.load, LoadState::Loading));
        loaded && self.renders_settled()
    }

    /// Screen position of a label-map position in the last frame (for tests and tools).
    pub fn canvas_to_screen(&self, x: f32, y: f32) -> egui::Pos2 {
        let rect = self.runtime.canvas.image_rect;
        let zoom = self.runtime.canvas.effective_zoom;
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
        if let Err(e) = self.runtime.save_session() {
            tracing::warn!("layout not kept for the next session: {e}");
            self.runtime
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
