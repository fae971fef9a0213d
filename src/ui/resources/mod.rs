//! The runtime resources: everything the GUI holds that is not persisted and not drawn — the
//! model packages and sessions, the painting and its history, file dialogs and jobs on helper
//! threads, the trainer, messages, the session file. No egui in here: textures and widget
//! memory belong to the views (`crate::ui::views`).
mod dialogs;
mod document;
mod messages;
mod models;
mod photo_job;
mod session;
mod startup;
mod training;

pub use dialogs::{DialogPurpose, OverwriteQuestion, PendingDialog};
pub use document::{
    Document, FALLBACK_SIZE, PendingChanges, default_scene, fallback_classes, is_png,
};
pub use messages::{ErrorReport, Messages, NOTICE_DURATION};
pub use models::{GeneratorState, LoadState, Models, RenderKey, RenderResult, Waker, latency_text};
pub use photo_job::PhotoJob;
pub use session::SessionFile;
pub use startup::{
    AppArgs, LayoutCandidates, SessionNotice, SessionOutcome, StartLayout, choose_active,
    choose_models, default_base_model, example_layouts, keep_session_aside, load_order,
    plan_start_layout,
};
pub use training::{ActiveRun, CheckState, Sample, SetupJob, TrainingRuntime};

use crate::inference::init_runtime;
use crate::models::ModelRegistry;
use crate::ui::state::AppState;

pub struct Resources {
    pub models: Models,
    pub doc: Document,
    pub messages: Messages,
    /// A native file dialog waiting for the user.
    pub dialog: Option<PendingDialog>,
    pub overwrite: Option<OverwriteQuestion>,
    /// A photo being segmented for "Open photo as layout".
    pub photo_job: Option<PhotoJob>,
    /// The Train tab: trainer process, dataset check, environment setup.
    pub training: TrainingRuntime,
    pub session: SessionFile,
    /// Asks for a frame from other threads (the worker's and the trainer's).
    pub waker: Option<Waker>,
    pub quit_requested: bool,
}

impl Resources {
    /// Loads ONNX Runtime, scans the model folders, chooses the models on screen, starts the
    /// inference worker and opens the first layout. Nothing here fails: problems become
    /// unavailable models, an error report or a notice.
    pub fn start(args: &AppArgs, state: &mut AppState) -> Resources {
        state.sanitize();
        let runtime_info = init_runtime().map_err(|e| e.to_string());
        let registry = ModelRegistry::scan_metadata(&args.model_dirs);
        let mut models = Models::new(registry, runtime_info, args.provider);
        let generators = models.generator_packages();
        choose_models(state, &models.generator_ids(), |id| models.is_usable(id));
        models.start_worker(load_order(generators.clone(), state));

        let active = state
            .active_model
            .as_deref()
            .and_then(|id| models.package(id));
        let (classes, dontcare, (width, height)) = match active {
            Some(p) => (
                p.meta.classes.clone(),
                p.meta.dontcare,
                (p.meta.width, p.meta.height),
            ),
            None => {
                let (c, d) = fallback_classes();
                (c, d, FALLBACK_SIZE)
            }
        };
        let candidates = LayoutCandidates {
            given: args.labels.clone(),
            session: args.session_file.clone().filter(|p| p.is_file()),
            example: example_layouts().into_iter().next(),
        };
        let layout = plan_start_layout(&candidates, |path| {
            crate::io::load_label_png(path, &classes, dontcare)
                .and_then(|m| crate::io::fit_label_map(m, width, height, path))
                .map_err(|e| e.to_string())
        });
        let session_notice = keep_session_aside(&layout.session);
        let session = SessionFile {
            path: args
                .session_file
                .clone()
                .filter(|_| session_notice.keep_session),
            saved: None,
        };
        let mut messages = Messages {
            error: layout.error,
            notice: None,
        };
        if let Some(text) = session_notice.notice {
            messages.show_notice(text);
        }
        let labels = layout
            .labels
            .unwrap_or_else(|| default_scene(width, height, &classes));
        let mut doc = Document::new(labels, classes, dontcare);
        doc.source = layout.source;
        if state.active_class as usize >= doc.classes.len() {
            state.active_class = 0;
        }
        if state.train == crate::training::TrainSettings::default() {
            state.train.base_model = default_base_model(&generators);
        }
        if let Err(reason) = &models.runtime_info {
            messages.error.get_or_insert_with(|| ErrorReport {
                title: "ONNX Runtime is not available".into(),
                message: format!("{reason}\n\nYou can still paint and save layouts."),
            });
        }
        Resources {
            models,
            doc,
            messages,
            dialog: None,
            overwrite: None,
            photo_job: None,
            training: TrainingRuntime::default(),
            session,
            waker: None,
            quit_requested: false,
        }
    }

    /// Lets the worker and the trainer ask for a frame.
    pub fn set_waker(&mut self, waker: Waker) {
        self.models.set_waker(waker.clone());
        self.waker = Some(waker);
    }

    /// The current layout and seed.
    pub fn render_key(&self, state: &AppState) -> RenderKey {
        RenderKey {
            version: self.doc.version,
            seed: state.seed,
        }
    }

    /// The active model has an image (of any layout).
    pub fn has_image(&self, state: &AppState) -> bool {
        state
            .active_model
            .as_deref()
            .and_then(|id| self.models.result(id))
            .is_some()
    }

    /// Every chosen model (at least two) has an image for the current layout and seed.
    pub fn compare_ready(&self, state: &AppState) -> bool {
        let key = self.render_key(state);
        state.compare_models.len() >= 2
            && state
                .compare_models
                .iter()
                .all(|id| self.models.result(id).is_some_and(|r| r.key == key))
    }

    /// True when every model on screen shows the current layout and seed (or has failed).
    pub fn renders_settled(&self, state: &AppState) -> bool {
        let key = self.render_key(state);
        state
            .visible_models()
            .iter()
            .all(|id| self.models.get(id).is_none_or(|g| g.settled_at(key)))
    }
}
