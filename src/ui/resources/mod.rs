//! The runtime resources: everything the GUI holds that is not persisted and not drawn — the
//! model packages and sessions, the painting and its history, file dialogs and jobs on helper
//! threads, the trainer, messages, the session file. No egui in here: textures and widget
//! memory belong to the views (`crate::ui::views`).
mod dialogs;
mod document;
mod edit;
mod messages;
mod models;
mod photo_job;
mod session;
mod startup;
mod style;
mod training;

pub use dialogs::{DialogPurpose, OverwriteQuestion, PendingDialog};
pub use document::{
    Document, FALLBACK_SIZE, PendingChanges, default_scene, fallback_classes, is_png,
};
pub use edit::EditSession;
pub use messages::{ErrorReport, Messages, NOTICE_DURATION};
pub use models::{
    GeneratorState, LoadState, Models, PREVIEW_WIDTH, RenderKey, RenderPurpose, RenderResult,
    StylePreview, Waker, latency_text,
};
pub use photo_job::{PhotoJob, PhotoPurpose, SegmentedPhoto};
pub use session::SessionFile;
pub use startup::{
    AppArgs, LayoutCandidates, SessionNotice, SessionOutcome, StartLayout, choose_active,
    choose_models, default_base_model, example_layouts, keep_session_aside, load_order,
    plan_start_layout, requested_model,
};
pub use style::{
    EncodedStyle, ModelStyle, StyleJob, StyleJobResult, StyleRuntime, fingerprint,
    saved_style_unfit, vector_fingerprint,
};
pub use training::{ActiveRun, CheckState, Sample, SetupJob, TrainingRuntime};

use crate::inference::{has_encoder, init_runtime};
use crate::models::ModelRegistry;
use crate::ui::state::{AppState, StyleChoice};

pub struct Resources {
    pub models: Models,
    pub doc: Document,
    pub messages: Messages,
    /// A native file dialog waiting for the user.
    pub dialog: Option<PendingDialog>,
    pub overwrite: Option<OverwriteQuestion>,
    /// A photo being segmented for "Open photo as layout" or "Edit a photo…".
    pub photo_job: Option<PhotoJob>,
    /// The chosen style's vectors and the job taking a photo's style.
    pub styles: StyleRuntime,
    /// The photo being edited.
    pub edit: Option<EditSession>,
    /// A full-size edited photo being written on a helper thread.
    pub export_job: Option<ExportJob>,
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
        let mut models = Models::new(registry, runtime_info, args.provider, state.precision);
        let generators = models.generator_packages();
        let ids = models.generator_ids();
        let usable = |id: &str| models.is_usable(id);
        let model_error = match args
            .model
            .as_deref()
            .map(|id| requested_model(id, &ids, usable))
        {
            Some(Ok(id)) => {
                state.active_model = Some(id);
                None
            }
            Some(Err(e)) => Some(e),
            None => None,
        };
        choose_models(state, &ids, usable);
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
            // A layout that cannot be opened is the more pressing (the painting it was).
            error: layout.error.or(model_error),
            notice: None,
        };
        if let Some(text) = session_notice.notice {
            messages.show_notice(text);
        }
        let mut styles = StyleRuntime::default();
        if let StyleChoice::Photo(photo) = &state.style {
            if photo.is_file() {
                // Each model on screen takes the photo's style once it is there.
                styles.photo = Some(photo.clone());
            } else {
                messages.show_notice(format!(
                    "The style photo {} is gone; the style is seed {} again",
                    photo.display(),
                    state.seed
                ));
                state.style = StyleChoice::Seed;
            }
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
            styles,
            edit: None,
            export_job: None,
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

    /// The style model `id` renders with now.
    pub fn model_style(&self, state: &AppState, id: &str) -> ModelStyle {
        self.styles.model_style(state, id, self.has_encoder(id))
    }

    /// The package of generator `id` ships a style encoder.
    pub fn has_encoder(&self, id: &str) -> bool {
        self.models.package(id).is_some_and(has_encoder)
    }

    /// The models on screen that can take a photo's style: usable, with a style encoder.
    pub fn encoder_models(&self, state: &AppState) -> Vec<String> {
        state
            .visible_models()
            .into_iter()
            .filter(|id| self.models.is_usable(id) && self.has_encoder(id))
            .collect()
    }

    /// Why no model on screen can take a photo's style, if none can.
    pub fn no_encoder_reason(&self, state: &AppState) -> Option<String> {
        if !self.encoder_models(state).is_empty() {
            return None;
        }
        let visible = state.visible_models();
        Some(match visible.as_slice() {
            [] => "No model can run, so none can take the style of a photo.".to_string(),
            [id] => match self.models.package(id) {
                Some(p) if !self.has_encoder(id) => crate::inference::InferenceError::NoEncoder {
                    model: id.clone(),
                    path: p.dir.join(crate::models::ENCODER_FILE),
                }
                .to_string(),
                _ => format!("The model {id} cannot run now, so it cannot take a photo's style."),
            },
            ids => format!(
                "None of the models compared ({}) has a style encoder (encoder.onnx), so none \
                 can take the style of a photo; compare a model trained with a style encoder, \
                 or use a seed",
                ids.join(", ")
            ),
        })
    }

    /// Why the kept style at `index` cannot be used with the active model, if it cannot (a
    /// seed fits every model).
    pub fn saved_style_unfit(&self, state: &AppState, index: usize) -> Option<String> {
        let saved = state.saved_styles.get(index)?;
        match state
            .active_model
            .as_deref()
            .and_then(|id| self.models.package(id))
        {
            Some(p) => saved_style_unfit(saved, &p.meta.id, p.meta.z_dim),
            None => match &saved.style {
                crate::style::Style::Seed(_) => None,
                crate::style::Style::Vector(v) => Some(format!(
                    "made for the model {}, which cannot run now",
                    v.model_id
                )),
            },
        }
    }

    /// Whether the kept style at `index` fits the active model.
    pub fn fits_active(&self, state: &AppState, index: usize) -> bool {
        index < state.saved_styles.len() && self.saved_style_unfit(state, index).is_none()
    }

    /// Leaves photo editing because another layout replaced the photo's: the words to add to
    /// that notice ("" when no photo was edited).
    pub fn end_edit(&mut self) -> String {
        self.edit
            .take()
            .map(|s| format!("; stopped editing {}", s.photo_name()))
            .unwrap_or_default()
    }

    /// Why the edited photo cannot be exported now, if it cannot.
    pub fn edit_not_exportable(&self) -> Option<&'static str> {
        match &self.edit {
            None => Some("No photo is being edited: File > Edit a photo… starts one."),
            Some(s) if !s.is_current(self.doc.version) => Some(
                "The image of the current layout is still being rendered; export when it shows.",
            ),
            Some(_) if self.export_job.is_some() => {
                Some("The last export is still being written; try again in a moment.")
            }
            Some(_) => None,
        }
    }

    /// The current layout and style of model `id`.
    pub fn render_key_for(&self, state: &AppState, id: &str) -> RenderKey {
        let style = match self.model_style(state, id) {
            ModelStyle::Seed { seed, .. } => {
                return RenderKey {
                    version: self.doc.version,
                    seed,
                    style: 0,
                };
            }
            ModelStyle::Vector(_) | ModelStyle::Waiting => self.styles.revision,
        };
        RenderKey {
            version: self.doc.version,
            seed: state.seed,
            style,
        }
    }

    /// The current layout and style of the active model (of the seed without one).
    pub fn render_key(&self, state: &AppState) -> RenderKey {
        match &state.active_model {
            Some(id) => self.render_key_for(state, id),
            None => RenderKey {
                version: self.doc.version,
                seed: state.seed,
                style: 0,
            },
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

    /// Every chosen model (at least two) has an image for the current layout and style.
    pub fn compare_ready(&self, state: &AppState) -> bool {
        state.compare_models.len() >= 2
            && state.compare_models.iter().all(|id| {
                let key = self.render_key_for(state, id);
                self.models.result(id).is_some_and(|r| r.key == key)
            })
    }

    /// True when every model on screen shows the current layout and style (or has failed),
    /// and no photo's style is being taken.
    pub fn renders_settled(&self, state: &AppState) -> bool {
        self.styles.job.is_none()
            && state.visible_models().iter().all(|id| {
                let key = self.render_key_for(state, id);
                self.models.get(id).is_none_or(|g| g.settled_at(key))
            })
    }
}

/// A full-size edited photo being blended and written on a helper thread.
pub struct ExportJob {
    pub kind: crate::ui::state::SaveKind,
    pub path: std::path::PathBuf,
    pub rx: std::sync::mpsc::Receiver<Result<(), crate::io::IoError>>,
}
