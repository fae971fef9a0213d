//! Runtime resources of the GUI: the model registry, the inference worker, the painting with its
//! history, textures, pending file dialogs and messages. Nothing here is persisted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use crate::canvas::{Dirty, History, LabelMap, Palette};
use crate::inference::{
    InferenceWorker, ProviderPreference, ProviderReport, RenderRequest, RuntimeInfo, WorkerEvent,
    init_runtime,
};
use crate::models::{ClassInfo, ModelKind, ModelPackage, ModelRegistry, PackageStatus};

use super::AppArgs;
use super::command::{MapPos, SaveKind, TrainPick};
use super::photo::PhotoJob;
use super::state::{AppState, MAX_COMPARE};
use super::training::TrainingRuntime;

/// Size of the canvas when no model is available (the CamVid models' size).
pub const FALLBACK_SIZE: (u32, u32) = (256, 192);

/// The CamVid classes, so the canvas can be painted (and layouts saved) before any model loads.
pub fn fallback_classes() -> (Vec<ClassInfo>, Option<u8>) {
    let table = crate::models::camvid();
    (table.classes.clone(), table.dontcare)
}

/// The layout being painted, in the classes of the active model.
#[derive(Debug)]
pub struct Document {
    pub labels: LabelMap,
    pub history: History,
    pub classes: Vec<ClassInfo>,
    pub dontcare: Option<u8>,
    pub palette: Palette,
    /// The file the layout came from, if any.
    pub source: Option<PathBuf>,
    /// Bumped on every change of `labels`; renders carry it as their generation.
    pub version: u64,
    /// Pixels changed since the canvas texture was last updated.
    pub dirty: Dirty,
    /// The whole texture must be rebuilt (undo, open, model switch).
    pub full_redraw: bool,
    /// Last position of the brush stroke in progress.
    pub stroke: Option<MapPos>,
}

impl Document {
    pub fn new(labels: LabelMap, classes: Vec<ClassInfo>, dontcare: Option<u8>) -> Self {
        let palette = Palette {
            colors: classes.iter().map(|c| c.color).collect(),
        };
        Self {
            labels,
            history: History::default(),
            classes,
            dontcare,
            palette,
            source: None,
            version: 1,
            dirty: Dirty::EMPTY,
            full_redraw: true,
            stroke: None,
        }
    }

    pub fn set_classes(&mut self, classes: Vec<ClassInfo>, dontcare: Option<u8>) {
        self.palette = Palette {
            colors: classes.iter().map(|c| c.color).collect(),
        };
        self.classes = classes;
        self.dontcare = dontcare;
        self.full_redraw = true;
    }

    /// Records a changed region (texture update and a new render).
    pub fn touched(&mut self, dirty: Dirty) {
        if !dirty.is_empty() {
            self.dirty = self.dirty.union(dirty);
            self.version += 1;
        }
    }

    /// Records that the whole map may have changed.
    pub fn replaced(&mut self) {
        self.full_redraw = true;
        self.version += 1;
    }

    /// Replaces the layout as one undo step.
    pub fn replace_labels(&mut self, labels: LabelMap) {
        self.stroke = None;
        self.history.record(&self.labels);
        self.labels = labels;
        self.history.commit(&self.labels);
        self.replaced();
    }

    /// The class painted by the eraser and by Clear.
    pub fn erase_class(&self) -> u8 {
        self.dontcare.unwrap_or(0)
    }

    pub fn class_name(&self, id: u8) -> String {
        self.classes
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("unknown class {id}"), |c| c.name.clone())
    }

    /// The class id whose name matches (case-insensitive), for the default scene.
    pub fn class_named(&self, name: &str) -> Option<u8> {
        self.classes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.id)
    }
}

/// A street-like starting scene (sky, buildings, road) for the given classes and size.
pub fn default_scene(width: u32, height: u32, doc_classes: &[ClassInfo]) -> LabelMap {
    let find = |name: &str, fallback: u8| {
        doc_classes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map_or(fallback, |c| c.id)
    };
    let max_id = doc_classes.iter().map(|c| c.id).max().unwrap_or(0);
    let (sky, building, road, pavement) = (
        find("sky", 0).min(max_id),
        find("building", 1).min(max_id),
        find("road", 3).min(max_id),
        find("pavement", 4).min(max_id),
    );
    let mut map = LabelMap::new(width, height, sky);
    let (w, h) = (width as f32, height as f32);
    let horizon = h * 0.55;
    crate::canvas::fill_rect(&mut map, (0.0, h * 0.18), (w * 0.3, horizon), building);
    crate::canvas::fill_rect(&mut map, (w * 0.7, h * 0.1), (w, horizon), building);
    crate::canvas::fill_rect(&mut map, (0.0, horizon), (w, h), pavement);
    crate::canvas::fill_polygon(
        &mut map,
        &[
            (w * 0.45, horizon),
            (w * 0.55, horizon),
            (w * 1.05, h),
            (-w * 0.05, h),
        ],
        road,
    );
    map
}

/// Which edit and seed a render was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderKey {
    pub version: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading,
    Loaded {
        provider: ProviderReport,
        load_ms: f64,
    },
    Failed(String),
}

/// A synthesized image on screen.
pub struct RenderResult {
    pub image: image::RgbaImage,
    pub texture: egui::TextureHandle,
    pub key: RenderKey,
    pub latency_ms: f64,
}

/// What the GUI knows about one generator at run time.
pub struct ModelView {
    pub load: LoadState,
    pub result: Option<RenderResult>,
    /// The last request sent to the worker.
    pub submitted: Option<RenderKey>,
    pub submitted_at: Option<Instant>,
    /// Key and message of the last failed render (cleared by a good one).
    pub error: Option<(RenderKey, String)>,
}

impl ModelView {
    fn new() -> Self {
        Self {
            load: LoadState::Loading,
            result: None,
            submitted: None,
            submitted_at: None,
            error: None,
        }
    }

    /// A request is out whose answer has not arrived.
    pub fn is_busy(&self) -> bool {
        let answered = |k: RenderKey| {
            self.result.as_ref().is_some_and(|r| r.key == k)
                || self.error.as_ref().is_some_and(|(e, _)| *e == k)
        };
        self.submitted.is_some_and(|k| !answered(k))
    }

    pub fn latency_ms(&self) -> Option<f64> {
        self.result.as_ref().map(|r| r.latency_ms)
    }
}

/// A message that can be shown in full (error panel) and in short (status bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReport {
    pub title: String,
    pub message: String,
}

/// What a pending file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    Open,
    /// A photo to segment into the canvas.
    OpenPhoto,
    Save(SaveKind),
    /// A folder or file for the Train tab.
    Train(TrainPick),
}

/// A native file dialog running on its own thread.
pub struct PendingDialog {
    pub purpose: DialogPurpose,
    pub rx: Receiver<Option<PathBuf>>,
}

/// A save that would replace an existing file, waiting for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverwriteQuestion {
    pub kind: SaveKind,
    pub path: PathBuf,
}

/// Transient canvas view data.
pub struct CanvasView {
    pub texture: Option<egui::TextureHandle>,
    /// Offset of the canvas centre from the centre of its area, in points.
    pub pan: egui::Vec2,
    /// Zoom used in the last frame (the fit zoom when fitting).
    pub effective_zoom: f32,
    /// Start and latest position of the primary press on the canvas.
    pub press: Option<(MapPos, MapPos)>,
    /// Where the label map was drawn in the last frame (screen points).
    pub image_rect: egui::Rect,
    /// Label-map position under the pointer.
    pub hover: Option<MapPos>,
}

impl Default for CanvasView {
    fn default() -> Self {
        Self {
            texture: None,
            pan: egui::Vec2::ZERO,
            effective_zoom: 1.0,
            press: None,
            image_rect: egui::Rect::NOTHING,
            hover: None,
        }
    }
}

pub struct Runtime {
    pub registry: ModelRegistry,
    pub runtime_info: Result<RuntimeInfo, String>,
    pub provider: ProviderPreference,
    pub worker: Option<InferenceWorker>,
    pub models: HashMap<String, ModelView>,
    pub doc: Document,
    pub canvas: CanvasView,
    pub dialog: Option<PendingDialog>,
    pub overwrite: Option<OverwriteQuestion>,
    pub error: Option<ErrorReport>,
    /// Short confirmation shown in the status bar ("Saved ...").
    pub notice: Option<(String, Instant)>,
    pub wake_installed: bool,
    pub quit_requested: bool,
    /// A photo being segmented for "Open photo as layout".
    pub photo_job: Option<PhotoJob>,
    /// The Train tab: trainer process, dataset check, environment setup.
    pub training: TrainingRuntime,
    /// Where the layout is kept across restarts, and the document version last written there.
    pub session_file: Option<PathBuf>,
    pub session_saved: Option<u64>,
}

impl Runtime {
    /// Loads ONNX Runtime, scans the model folders, starts the inference worker and opens the
    /// first layout. Nothing here fails: problems become unavailable models or an error report.
    pub fn new(args: &AppArgs, state: &mut AppState) -> Runtime {
        state.sanitize();
        let runtime_info = init_runtime().map_err(|e| e.to_string());
        let mut registry = ModelRegistry::scan_metadata(&args.model_dirs);
        let generators: Vec<ModelPackage> = registry.generators().cloned().collect();
        let mut models: HashMap<String, ModelView> = generators
            .iter()
            .map(|p| (p.meta.id.clone(), ModelView::new()))
            .collect();
        if let Err(reason) = &runtime_info {
            for p in &generators {
                if let Some(view) = models.get_mut(&p.meta.id) {
                    view.load = LoadState::Failed(reason.clone());
                }
                if let Some(entry) = registry.get_mut(&p.meta.id) {
                    entry.status = PackageStatus::Unavailable {
                        reason: reason.clone(),
                    };
                }
            }
        }

        let usable = |id: &str| {
            models
                .get(id)
                .is_some_and(|m| !matches!(m.load, LoadState::Failed(_)))
        };
        let active = state
            .active_model
            .clone()
            .filter(|id| usable(id))
            .or_else(|| {
                generators
                    .iter()
                    .map(|p| p.meta.id.clone())
                    .find(|id| usable(id))
            });
        state.active_model = active.clone();
        state.compare_models.retain(|id| usable(id));
        for p in &generators {
            if state.compare_models.len() >= 2.min(MAX_COMPARE) {
                break;
            }
            if usable(&p.meta.id) && !state.compare_models.contains(&p.meta.id) {
                state.compare_models.push(p.meta.id.clone());
            }
        }

        // The models on screen load first: the worker loads in order before any render.
        let mut load_order = generators.clone();
        load_order.sort_by_key(|p| {
            let id = &p.meta.id;
            if active.as_ref() == Some(id) {
                0
            } else if state.compare_models.contains(id) {
                1
            } else {
                2
            }
        });
        let worker = (runtime_info.is_ok() && !load_order.is_empty())
            .then(|| InferenceWorker::spawn(load_order, args.provider));

        let meta = active
            .as_deref()
            .and_then(|id| generators.iter().find(|p| p.meta.id == id))
            .map(|p| p.meta.clone());
        let (classes, dontcare, (width, height)) = match &meta {
            Some(m) => (m.classes.clone(), m.dontcare, (m.width, m.height)),
            None => {
                let (c, d) = fallback_classes();
                (c, d, FALLBACK_SIZE)
            }
        };
        let mut error = None;
        let mut notice = None;
        let mut source = None;
        let mut labels = None;
        // A layout given on the command line, else the one painted last time, else an example.
        let mut session_file = args.session_file.clone();
        let session = session_file.clone().filter(|p| p.is_file());
        let candidates: Vec<PathBuf> = args
            .labels
            .iter()
            .cloned()
            .chain(session.clone())
            .chain(example_layouts().into_iter().take(1))
            .collect();
        for path in candidates {
            let loaded = crate::io::load_label_png(&path, &classes, dontcare)
                .and_then(|m| crate::io::fit_label_map(m, width, height, &path));
            let is_session = session.as_ref() == Some(&path);
            match loaded {
                Ok(map) => {
                    labels = Some(map);
                    if is_session {
                        notice = Some("Restored the layout you were painting last time".into());
                    } else {
                        source = Some(path);
                    }
                    break;
                }
                Err(e) if args.labels.as_ref() == Some(&path) => {
                    error = Some(ErrorReport {
                        title: "Could not open the layout".into(),
                        message: e.to_string(),
                    });
                }
                Err(e) if is_session => {
                    // Keep it (another model's classes, a damaged file, one too large) under a
                    // name of its own: an earlier one kept aside is never replaced.
                    tracing::warn!("last session's layout not restored: {e}");
                    notice = Some(match crate::io::move_aside(&path, "layout-not-restored") {
                        Ok(aside) => format!(
                            "Last session's layout could not be restored ({e}); it was kept as {}",
                            aside.display()
                        ),
                        Err(move_error) => {
                            // It could not be moved: leave it alone and keep nothing this time.
                            tracing::warn!("{move_error}");
                            session_file = None;
                            format!(
                                "Last session's layout could not be restored ({e}); it was left \
                                 as it is ({move_error}), and this session's layout will not be \
                                 kept"
                            )
                        }
                    });
                }
                Err(e) => tracing::warn!("example layout skipped: {e}"),
            }
        }
        let labels = labels.unwrap_or_else(|| default_scene(width, height, &classes));
        let mut doc = Document::new(labels, classes, dontcare);
        doc.source = source;
        if state.active_class as usize >= doc.classes.len() {
            state.active_class = 0;
        }
        if state.train == crate::training::TrainSettings::default() {
            // Untouched Train tab: offer to fine-tune the first model that can be (the shipped
            // CamVid one when present, as generators() lists it first).
            state.train.base_model = generators
                .iter()
                .find(|p| crate::training::base_checkpoint(p).is_some())
                .map(|p| p.meta.id.clone());
        }

        if let Err(reason) = &runtime_info {
            error.get_or_insert_with(|| ErrorReport {
                title: "ONNX Runtime is not available".into(),
                message: format!("{reason}\n\nYou can still paint and save layouts."),
            });
        }

        Runtime {
            registry,
            runtime_info,
            provider: args.provider,
            worker,
            models,
            doc,
            canvas: CanvasView::default(),
            dialog: None,
            overwrite: None,
            error,
            notice: notice.map(|text| (text, Instant::now())),
            wake_installed: false,
            quit_requested: false,
            photo_job: None,
            training: TrainingRuntime::default(),
            session_file,
            session_saved: None,
        }
    }

    /// Writes the layout to the session file if it changed since the last write (atomically,
    /// so a crash mid-write leaves the previous one). Returns whether it wrote.
    pub fn save_session(&mut self) -> Result<bool, crate::io::IoError> {
        let Some(path) = &self.session_file else {
            return Ok(false);
        };
        if self.session_saved == Some(self.doc.version) {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| crate::io::IoError::Write {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        crate::io::save_label_ids_png(path, &self.doc.labels, true)?;
        self.session_saved = Some(self.doc.version);
        Ok(true)
    }

    /// Adds a package folder that appeared after start-up (a training run's export) and starts
    /// loading it. Returns its id.
    pub fn add_package(&mut self, dir: &Path) -> Result<String, String> {
        let package = ModelPackage::load(dir).map_err(|e| e.to_string())?;
        let id = package.meta.id.clone();
        if let Some(existing) = self.registry.get(&id).filter(|e| e.package.is_some()) {
            if existing.dir == package.dir {
                return Ok(id);
            }
            return Err(format!(
                "model id {id:?} is already provided by {}",
                existing.dir.display()
            ));
        }
        if let Some(parent) = dir.parent()
            && !self.registry.dirs.iter().any(|d| d == parent)
        {
            self.registry.dirs.push(parent.to_path_buf());
        }
        self.register(package);
        Ok(id)
    }

    fn register(&mut self, package: ModelPackage) {
        let id = package.meta.id.clone();
        if package.meta.kind == ModelKind::Generator {
            let mut view = ModelView::new();
            match &self.runtime_info {
                Err(reason) => view.load = LoadState::Failed(reason.clone()),
                Ok(_) => match &self.worker {
                    Some(worker) => worker.add_package(package.clone()),
                    None => {
                        self.worker =
                            Some(InferenceWorker::spawn(vec![package.clone()], self.provider));
                        self.wake_installed = false;
                    }
                },
            }
            self.models.insert(id.clone(), view);
        }
        self.registry.entries.push(crate::models::RegistryEntry {
            dir: package.dir.clone(),
            id,
            package: Some(package),
            status: PackageStatus::Available,
            provider: None,
        });
    }

    /// Scans the model folders again; new packages are added (and loaded), the others stay as
    /// they are. Returns the ids added.
    pub fn rescan_models(&mut self) -> Vec<String> {
        let scanned = ModelRegistry::scan_metadata(&self.registry.dirs);
        let mut added = Vec::new();
        for entry in scanned.entries {
            if self.registry.entries.iter().any(|e| e.dir == entry.dir) {
                continue;
            }
            match entry.package {
                Some(package) if entry.status == PackageStatus::Available => {
                    if self.registry.get(&package.meta.id).is_some() {
                        continue;
                    }
                    added.push(package.meta.id.clone());
                    self.register(package);
                }
                _ => self.registry.entries.push(entry),
            }
        }
        added
    }

    /// The package of a generator by id.
    pub fn package(&self, id: &str) -> Option<&ModelPackage> {
        self.registry
            .get(id)
            .and_then(|e| e.package.as_ref())
            .filter(|p| p.meta.kind == ModelKind::Generator)
    }

    /// A model that can be selected: its package is fine and its session did not fail.
    pub fn is_usable(&self, id: &str) -> bool {
        self.package(id).is_some()
            && self
                .models
                .get(id)
                .is_some_and(|m| !matches!(m.load, LoadState::Failed(_)))
    }

    /// Why a generator cannot be used, if so.
    pub fn unusable_reason(&self, id: &str) -> Option<String> {
        if let Some(LoadState::Failed(reason)) = self.models.get(id).map(|m| &m.load) {
            return Some(reason.clone());
        }
        let entry = self.registry.get(id)?;
        entry.reason().map(str::to_string)
    }

    /// Every generator entry of the registry plus entries that could not be read (which may
    /// have been generators), in scan order: (id, display name).
    pub fn model_choices(&self) -> Vec<(String, String)> {
        self.registry
            .entries
            .iter()
            .filter(|e| {
                e.package
                    .as_ref()
                    .is_none_or(|p| p.meta.kind == ModelKind::Generator)
            })
            .map(|e| {
                let name = e
                    .package
                    .as_ref()
                    .map_or_else(|| e.id.clone(), |p| p.meta.name.clone());
                (e.id.clone(), name)
            })
            .collect()
    }

    /// Display name of a model.
    pub fn model_name(&self, id: &str) -> String {
        self.package(id)
            .map_or_else(|| id.to_string(), |p| p.meta.name.clone())
    }

    pub fn render_key(&self, state: &AppState) -> RenderKey {
        RenderKey {
            version: self.doc.version,
            seed: state.seed,
        }
    }

    /// Sends the current layout to the worker for `id` (latest-wins: replaces a queued one).
    pub fn submit(&mut self, id: &str, key: RenderKey) {
        let Some(worker) = &self.worker else { return };
        let Some(view) = self.models.get_mut(id) else {
            return;
        };
        if matches!(view.load, LoadState::Failed(_)) {
            return;
        }
        worker.submit(RenderRequest {
            model_id: id.to_string(),
            labels: Arc::new(self.doc.labels.clone()),
            seed: key.seed,
            generation: key.version,
        });
        view.submitted = Some(key);
        view.submitted_at = Some(Instant::now());
    }

    /// Applies the worker's events; returns true when something changed on screen.
    pub fn poll_worker(&mut self, ctx: &egui::Context) -> bool {
        let mut changed = false;
        while let Some(event) = self.worker.as_ref().and_then(InferenceWorker::try_recv) {
            changed = true;
            self.handle_event(ctx, event);
        }
        if self.worker.as_ref().is_some_and(|w| !w.is_running()) {
            // Without its thread no image would ever arrive: say so instead of waiting forever.
            self.worker = None;
            let reason = "the inference thread stopped; save your layout and restart SceneBrush \
                          (details are in the log with RUST_LOG=info)"
                .to_string();
            for view in self.models.values_mut() {
                if !matches!(view.load, LoadState::Failed(_)) {
                    view.load = LoadState::Failed(reason.clone());
                }
            }
            self.show_error("Inference stopped", reason);
            changed = true;
        }
        changed
    }

    pub fn handle_event(&mut self, ctx: &egui::Context, event: WorkerEvent) {
        match event {
            WorkerEvent::ModelLoaded {
                model_id,
                provider,
                load_ms,
            } => {
                if let Some(entry) = self.registry.get_mut(&model_id) {
                    entry.provider = Some(provider.used.clone());
                }
                self.models
                    .entry(model_id)
                    .or_insert_with(ModelView::new)
                    .load = LoadState::Loaded { provider, load_ms };
            }
            WorkerEvent::ModelFailed { model_id, error } => {
                if let Some(entry) = self.registry.get_mut(&model_id) {
                    entry.status = PackageStatus::Unavailable {
                        reason: error.clone(),
                    };
                }
                let view = self.models.entry(model_id).or_insert_with(ModelView::new);
                view.load = LoadState::Failed(error);
                view.submitted = None;
            }
            WorkerEvent::Rendered {
                model_id,
                generation,
                seed,
                image,
                latency_ms,
            } => {
                let key = RenderKey {
                    version: generation,
                    seed,
                };
                let Some(view) = self.models.get_mut(&model_id) else {
                    return;
                };
                let color = egui::ColorImage::from_rgba_unmultiplied(
                    [image.width() as usize, image.height() as usize],
                    image.as_raw(),
                );
                let options = egui::TextureOptions::LINEAR;
                match &mut view.result {
                    Some(r) => {
                        r.texture.set(color, options);
                        r.image = image;
                        r.key = key;
                        r.latency_ms = latency_ms;
                    }
                    None => {
                        let texture =
                            ctx.load_texture(format!("result-{model_id}"), color, options);
                        view.result = Some(RenderResult {
                            image,
                            texture,
                            key,
                            latency_ms,
                        });
                    }
                }
                view.error = None;
            }
            WorkerEvent::RenderFailed {
                model_id,
                generation,
                error,
            } => {
                if let Some(view) = self.models.get_mut(&model_id) {
                    // The seed of a failed request is not reported: the submitted one is it.
                    let seed = view.submitted.map_or(0, |k| k.seed);
                    view.error = Some((
                        RenderKey {
                            version: generation,
                            seed,
                        },
                        error,
                    ));
                }
            }
        }
    }

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
}

/// Example layouts shipped in `assets/layouts/`, sorted by name.
pub fn example_layouts() -> Vec<PathBuf> {
    let Some(dir) = crate::paths::find_app_dir("assets").map(|d| d.join("layouts")) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| is_png(p))
        .collect();
    files.sort();
    files
}

pub fn is_png(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}
