//! The generators at run time: the registry of packages, ONNX Runtime, the inference worker, and
//! per generator its one load state and its latest image. Whether a model can be used is derived
//! from these two facts alone: its package (registry) and its session (`LoadState`).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::canvas::LabelMap;
use crate::inference::{
    InferenceWorker, ProviderPreference, ProviderReport, RenderRequest, RuntimeInfo, WorkerEvent,
};
use crate::models::{
    GraphUsed, ModelKind, ModelPackage, ModelRegistry, PackageStatus, Precision, RegistryEntry,
};
use crate::style::Style;

/// Style previews are kept this wide (pixels): they show as small cards.
pub const PREVIEW_WIDTH: u32 = 128;
/// The requests remembered per generator (latest-wins leaves at most two unanswered).
const REMEMBERED_REQUESTS: usize = 16;

/// Asks the GUI for a new frame (from any thread): installed by the app once it has a window.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Which edit and style a render was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderKey {
    pub version: u64,
    pub seed: u64,
    /// 0 when z is the seed's noise; else the revision of the chosen style whose vector it is
    /// (`StyleRuntime::revision`).
    pub style: u64,
}

/// What a request to the worker is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderPurpose {
    /// The image on screen, for this layout and style.
    Main(RenderKey),
    /// A kept style's preview of the layout at `version` (`style`: the style's fingerprint).
    Preview { style: u64, version: u64 },
}

/// A kept style's picture of the layout, small.
#[derive(Debug, Clone)]
pub struct StylePreview {
    /// The layout version it shows.
    pub version: u64,
    /// `None` when the render failed (not tried again for this layout).
    pub image: Option<image::RgbaImage>,
    /// Counts the previews delivered (textures showing an older one are stale).
    pub revision: u64,
}

/// A generator's session: the single record of whether it can run.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading,
    Loaded {
        provider: ProviderReport,
        load_ms: f64,
        /// model.onnx or the int8 variant (and why not that one, when it was wanted).
        graph: GraphUsed,
    },
    Failed(String),
}

impl LoadState {
    pub fn is_loading(&self) -> bool {
        matches!(self, LoadState::Loading)
    }

    /// Why the session cannot run, if it cannot.
    pub fn failure(&self) -> Option<&str> {
        match self {
            LoadState::Failed(reason) => Some(reason),
            _ => None,
        }
    }

    pub fn is_failed(&self) -> bool {
        self.failure().is_some()
    }

    /// The execution provider of a loaded session.
    pub fn provider(&self) -> Option<&ProviderReport> {
        match self {
            LoadState::Loaded { provider, .. } => Some(provider),
            _ => None,
        }
    }

    /// The graph a loaded session runs.
    pub fn graph(&self) -> Option<&GraphUsed> {
        match self {
            LoadState::Loaded { graph, .. } => Some(graph),
            _ => None,
        }
    }
}

/// A synthesized image (the view layer keeps its texture).
#[derive(Debug, Clone)]
pub struct RenderResult {
    pub image: image::RgbaImage,
    pub key: RenderKey,
    pub latency_ms: f64,
    /// Counts the images this generator delivered: a texture showing an older one is stale.
    pub revision: u64,
}

/// What the GUI knows about one generator at run time.
#[derive(Debug, Clone)]
pub struct GeneratorState {
    pub load: LoadState,
    pub result: Option<RenderResult>,
    /// The last request sent to the worker.
    pub submitted: Option<RenderKey>,
    pub submitted_at: Option<Instant>,
    /// Key and message of the last failed render (cleared by a good one).
    pub error: Option<(RenderKey, String)>,
    /// The latest request of any kind not answered yet (its id).
    pub awaiting: Option<u64>,
    /// Recent requests by id (the worker reports the id as the `generation`).
    requests: VecDeque<(u64, RenderPurpose)>,
    /// Kept styles' previews, by style fingerprint.
    pub previews: HashMap<u64, StylePreview>,
    /// Loads asked of the worker and not answered yet: only the last answer is the session.
    loads_out: usize,
    /// The image on screen was made by a session since replaced (another precision): it is
    /// rendered again, and until then not settled.
    pub outdated: bool,
}

impl GeneratorState {
    fn new(load: LoadState) -> Self {
        Self {
            load,
            result: None,
            submitted: None,
            submitted_at: None,
            error: None,
            awaiting: None,
            requests: VecDeque::new(),
            previews: HashMap::new(),
            loads_out: 0,
            outdated: false,
        }
    }

    /// Whether the load answered now is the last one asked for (an earlier one's answer,
    /// overtaken by a reload, does not change the load state).
    fn load_answered(&mut self) -> bool {
        self.loads_out = self.loads_out.saturating_sub(1);
        self.loads_out == 0
    }

    /// Nothing is asked of the worker for this generator: a preview may go out.
    pub fn is_idle(&self) -> bool {
        self.awaiting.is_none()
    }

    fn remember(&mut self, id: u64, purpose: RenderPurpose) {
        if self.requests.len() >= REMEMBERED_REQUESTS {
            self.requests.pop_front();
        }
        self.requests.push_back((id, purpose));
        self.awaiting = Some(id);
    }

    /// What request `id` was for (and it is answered).
    fn answered(&mut self, id: u64) -> Option<RenderPurpose> {
        if self.awaiting == Some(id) {
            self.awaiting = None;
        }
        let at = self.requests.iter().position(|(r, _)| *r == id)?;
        self.requests.remove(at).map(|(_, p)| p)
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

    /// Shows `key` (its image or its render error), or never will (its session failed).
    pub fn settled_at(&self, key: RenderKey) -> bool {
        self.load.is_failed()
            || (!self.outdated && self.result.as_ref().is_some_and(|r| r.key == key))
            || self.error.as_ref().is_some_and(|(k, _)| *k == key)
    }
}

/// "85 ms", "1.20 s".
pub fn latency_text(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// The model packages and the generators' sessions.
pub struct Models {
    pub registry: ModelRegistry,
    pub runtime_info: Result<RuntimeInfo, String>,
    pub provider: ProviderPreference,
    /// Which graph of each generator package the sessions run (the user's setting).
    pub precision: Precision,
    worker: Option<InferenceWorker>,
    generators: HashMap<String, GeneratorState>,
    waker: Option<Waker>,
    /// The id of the last request sent to the worker (as its `generation`).
    last_request: u64,
    /// Counts the style previews delivered.
    preview_revision: u64,
}

impl Models {
    /// The scanned packages, each generator loading (or failed when ONNX Runtime is missing).
    /// No worker runs until [`Models::start_worker`].
    pub fn new(
        registry: ModelRegistry,
        runtime_info: Result<RuntimeInfo, String>,
        provider: ProviderPreference,
        precision: Precision,
    ) -> Models {
        let load = match &runtime_info {
            Ok(_) => LoadState::Loading,
            Err(reason) => LoadState::Failed(reason.clone()),
        };
        let generators = registry
            .generators()
            .map(|p| (p.meta.id.clone(), GeneratorState::new(load.clone())))
            .collect();
        Models {
            registry,
            runtime_info,
            provider,
            precision,
            worker: None,
            generators,
            waker: None,
            last_request: 0,
            preview_revision: 0,
        }
    }

    /// Starts the inference worker, which loads `packages` in this order before any render.
    pub fn start_worker(&mut self, packages: Vec<ModelPackage>) {
        if self.runtime_info.is_ok() && !packages.is_empty() {
            for package in &packages {
                if let Some(generator) = self.generators.get_mut(&package.meta.id) {
                    generator.loads_out += 1;
                }
            }
            let worker = InferenceWorker::spawn(packages, self.provider, self.precision);
            self.install_waker(&worker);
            self.worker = Some(worker);
        }
    }

    /// Lets the worker ask for a frame when an image or a load arrives.
    pub fn set_waker(&mut self, waker: Waker) {
        self.waker = Some(waker);
        if let Some(worker) = &self.worker {
            self.install_waker(worker);
        }
    }

    fn install_waker(&self, worker: &InferenceWorker) {
        if let Some(waker) = self.waker.clone() {
            worker.set_wake(Box::new(move || waker()));
        }
    }

    /// Usable generator packages: the default one first, then the others in scan order.
    pub fn generator_packages(&self) -> Vec<ModelPackage> {
        self.registry.generators().cloned().collect()
    }

    /// Ids of [`Models::generator_packages`].
    pub fn generator_ids(&self) -> Vec<String> {
        self.registry
            .generators()
            .map(|p| p.meta.id.clone())
            .collect()
    }

    /// The package of a generator by id.
    pub fn package(&self, id: &str) -> Option<&ModelPackage> {
        self.registry
            .get(id)
            .and_then(|e| e.package.as_ref())
            .filter(|p| p.meta.kind == ModelKind::Generator)
    }

    /// The run-time state of a generator.
    pub fn get(&self, id: &str) -> Option<&GeneratorState> {
        self.generators.get(id)
    }

    /// Every generator's run-time state, by id (in no order).
    pub fn states(&self) -> impl Iterator<Item = (&String, &GeneratorState)> {
        self.generators.iter()
    }

    /// The latest image of a generator.
    pub fn result(&self, id: &str) -> Option<&RenderResult> {
        self.get(id).and_then(|g| g.result.as_ref())
    }

    /// A model that can be selected: its package is fine and its session did not fail.
    pub fn is_usable(&self, id: &str) -> bool {
        self.package(id).is_some() && self.get(id).is_some_and(|g| !g.load.is_failed())
    }

    /// Why a model cannot be used, if so: its session's failure, else its package's problem.
    pub fn unusable_reason(&self, id: &str) -> Option<String> {
        if let Some(reason) = self.get(id).and_then(|g| g.load.failure()) {
            return Some(reason.to_string());
        }
        self.registry.get(id)?.reason().map(str::to_string)
    }

    /// Some generator is still loading.
    pub fn any_loading(&self) -> bool {
        self.generators.values().any(|g| g.load.is_loading())
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

    /// Sends `labels` to the worker for `id` with `style` (`None`: the key's seed), for the
    /// image on screen (latest-wins: replaces a queued request).
    pub fn submit(&mut self, id: &str, key: RenderKey, labels: &LabelMap, style: Option<Style>) {
        if self.send(id, RenderPurpose::Main(key), labels, key.seed, style)
            && let Some(generator) = self.generators.get_mut(id)
        {
            generator.submitted = Some(key);
            generator.submitted_at = Some(Instant::now());
        }
    }

    /// Sends a kept style's preview of `labels` (layout `version`) for `id`. Only when the
    /// generator is idle: a preview never waits in front of the image on screen, and the next
    /// request for the screen replaces it in the worker's queue.
    pub fn submit_preview(
        &mut self,
        id: &str,
        fingerprint: u64,
        version: u64,
        labels: &LabelMap,
        style: Style,
    ) -> bool {
        if !self.get(id).is_some_and(GeneratorState::is_idle) {
            return false;
        }
        let seed = style.seed().unwrap_or(0);
        let purpose = RenderPurpose::Preview {
            style: fingerprint,
            version,
        };
        self.send(id, purpose, labels, seed, Some(style))
    }

    fn send(
        &mut self,
        id: &str,
        purpose: RenderPurpose,
        labels: &LabelMap,
        seed: u64,
        style: Option<Style>,
    ) -> bool {
        let Some(worker) = &self.worker else {
            return false;
        };
        let Some(generator) = self.generators.get_mut(id) else {
            return false;
        };
        if generator.load.is_failed() {
            return false;
        }
        self.last_request += 1;
        let request = RenderRequest {
            model_id: id.to_string(),
            labels: Arc::new(labels.clone()),
            seed,
            generation: self.last_request,
        };
        match style {
            Some(style) => worker.submit_with_style(request, style),
            None => worker.submit(request),
        }
        generator.remember(self.last_request, purpose);
        true
    }

    /// The next event of the worker, without waiting.
    pub fn try_recv(&self) -> Option<WorkerEvent> {
        self.worker.as_ref().and_then(InferenceWorker::try_recv)
    }

    /// The worker's thread has ended: it is dropped and every session marked failed with
    /// `reason`. True when that happened now.
    pub fn reap_stopped_worker(&mut self, reason: &str) -> bool {
        if self.worker.as_ref().is_none_or(|w| w.is_running()) {
            return false;
        }
        self.worker = None;
        for generator in self.generators.values_mut() {
            if !generator.load.is_failed() {
                generator.load = LoadState::Failed(reason.to_string());
            }
        }
        true
    }

    /// Applies one event of the worker.
    pub fn handle_event(&mut self, event: WorkerEvent) {
        match event {
            WorkerEvent::ModelLoaded {
                model_id,
                provider,
                load_ms,
                graph,
            } => {
                let generator = self
                    .generators
                    .entry(model_id)
                    .or_insert_with(|| GeneratorState::new(LoadState::Loading));
                if generator.load_answered() {
                    generator.load = LoadState::Loaded {
                        provider,
                        load_ms,
                        graph,
                    };
                }
            }
            WorkerEvent::ModelFailed { model_id, error } => {
                let generator = self
                    .generators
                    .entry(model_id)
                    .or_insert_with(|| GeneratorState::new(LoadState::Loading));
                if generator.load_answered() {
                    generator.load = LoadState::Failed(error);
                    generator.submitted = None;
                    generator.awaiting = None;
                }
            }
            WorkerEvent::Rendered {
                model_id,
                generation,
                image,
                latency_ms,
                ..
            } => {
                let Some(generator) = self.generators.get_mut(&model_id) else {
                    return;
                };
                match generator.answered(generation) {
                    Some(RenderPurpose::Main(key)) => {
                        let revision = generator.result.as_ref().map_or(1, |r| r.revision + 1);
                        generator.result = Some(RenderResult {
                            image,
                            key,
                            latency_ms,
                            revision,
                        });
                        generator.error = None;
                        generator.outdated = false;
                    }
                    Some(RenderPurpose::Preview { style, version }) => {
                        self.preview_revision += 1;
                        generator.previews.insert(
                            style,
                            StylePreview {
                                version,
                                image: Some(small(&image)),
                                revision: self.preview_revision,
                            },
                        );
                    }
                    None => tracing::debug!("{model_id}: an image for a forgotten request"),
                }
            }
            WorkerEvent::RenderFailed {
                model_id,
                generation,
                error,
            } => {
                let Some(generator) = self.generators.get_mut(&model_id) else {
                    return;
                };
                match generator.answered(generation) {
                    Some(RenderPurpose::Main(key)) => {
                        generator.error = Some((key, error));
                        generator.outdated = false;
                    }
                    Some(RenderPurpose::Preview { style, version }) => {
                        tracing::warn!("{model_id}: style preview failed: {error}");
                        self.preview_revision += 1;
                        generator.previews.insert(
                            style,
                            StylePreview {
                                version,
                                image: None,
                                revision: self.preview_revision,
                            },
                        );
                    }
                    None => tracing::debug!("{model_id}: a failure of a forgotten request"),
                }
            }
        }
    }

    /// Runs the generators with the graphs `precision` asks for from now on: every generator
    /// whose session is loaded or loading is loaded again (its image stays on screen until the
    /// new session renders it again). Returns whether anything changed.
    pub fn set_precision(&mut self, precision: Precision) -> bool {
        if precision == self.precision {
            return false;
        }
        self.precision = precision;
        let Some(worker) = &self.worker else {
            return true;
        };
        for package in self.registry.generators() {
            let Some(generator) = self.generators.get_mut(&package.meta.id) else {
                continue;
            };
            if generator.load.is_failed() {
                // Its float graph failed (or ONNX Runtime is missing): no graph of it runs.
                continue;
            }
            worker.add_package(package.clone(), precision);
            generator.loads_out += 1;
            generator.load = LoadState::Loading;
            // Rendered again by the new session: the image on screen, then the styles' previews.
            // Answers to requests sent before are the old session's: forgotten, so ignored.
            generator.requests.clear();
            generator.awaiting = None;
            generator.submitted = None;
            generator.submitted_at = None;
            generator.outdated = generator.result.is_some();
            generator.previews.clear();
        }
        true
    }

    /// A note about a generator's int8 variant, if there is one to make: why it is not used
    /// (its package's problem, or its session's), else `None`.
    pub fn int8_note(&self, id: &str) -> Option<String> {
        if let Some(note) = self
            .get(id)
            .and_then(|g| g.load.graph())
            .and_then(GraphUsed::note)
        {
            return Some(note.to_string());
        }
        self.package(id)
            .and_then(|p| p.int8.problem())
            .map(str::to_string)
    }

    /// The precision a generator runs, when worth saying: "int8" when its int8 variant runs,
    /// "float" when it has one but runs model.onnx (by the setting or because the variant is
    /// unusable); `None` for a package without an int8 variant, or a session not loaded.
    pub fn precision_label(&self, id: &str) -> Option<&'static str> {
        let graph = self.get(id)?.load.graph()?;
        let has_variant = self
            .package(id)
            .is_some_and(|p| p.int8 != crate::models::Int8Variant::Absent);
        (graph.is_int8() || has_variant).then(|| graph.label())
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
            let load = match &self.runtime_info {
                Err(reason) => LoadState::Failed(reason.clone()),
                Ok(_) => {
                    match &self.worker {
                        Some(worker) => worker.add_package(package.clone(), self.precision),
                        None => self.start_worker(vec![package.clone()]),
                    }
                    LoadState::Loading
                }
            };
            let mut generator = GeneratorState::new(load);
            generator.loads_out = usize::from(generator.load.is_loading());
            self.generators.insert(id.clone(), generator);
        }
        self.registry.entries.push(RegistryEntry {
            dir: package.dir.clone(),
            id,
            package: Some(package),
            status: PackageStatus::Available,
        });
    }

    /// Scans the model folders again; new packages are added (and loaded), the others stay as
    /// they are. Returns the ids added.
    pub fn rescan(&mut self) -> Vec<String> {
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

    /// The folders scanned, for messages.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.registry.dirs
    }

    /// Shows these timings instead of the measured ones (snapshots compare the window, not the
    /// machine's speed).
    pub fn pin_timings(&mut self, latency_ms: f64, load: f64) {
        for generator in self.generators.values_mut() {
            if let Some(r) = &mut generator.result {
                r.latency_ms = latency_ms;
            }
            if let LoadState::Loaded { load_ms, .. } = &mut generator.load {
                *load_ms = load;
            }
        }
    }
}

/// A preview at most [`PREVIEW_WIDTH`] wide.
fn small(image: &image::RgbaImage) -> image::RgbaImage {
    let (w, h) = image.dimensions();
    if w <= PREVIEW_WIDTH || w == 0 {
        return image.clone();
    }
    let height = ((u64::from(h) * u64::from(PREVIEW_WIDTH)) / u64::from(w)).max(1) as u32;
    image::imageops::resize(
        image,
        PREVIEW_WIDTH,
        height,
        image::imageops::FilterType::Triangle,
    )
}
