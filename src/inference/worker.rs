//! The latest-wins inference worker: one thread owns the sessions; each model has a single
//! pending slot that a newer request replaces, so painting never queues up stale renders.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use super::providers::{ProviderPreference, ProviderReport};
use super::session::Generator;
use crate::canvas::LabelMap;
use crate::models::{GraphUsed, ModelPackage, Precision};
use crate::style::Style;

/// Render `labels` with `model_id` and the z of `seed`. `generation` is the caller's counter,
/// returned with the result so it can tell which edit an image belongs to.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub model_id: String,
    pub labels: Arc<LabelMap>,
    pub seed: u64,
    pub generation: u64,
}

#[derive(Debug, Clone)]
pub enum WorkerEvent {
    ModelLoaded {
        model_id: String,
        provider: ProviderReport,
        load_ms: f64,
        /// model.onnx or the int8 variant (and why not that one, when it was wanted).
        graph: GraphUsed,
    },
    ModelFailed {
        model_id: String,
        error: String,
    },
    Rendered {
        model_id: String,
        generation: u64,
        seed: u64,
        image: image::RgbaImage,
        /// Time spent in the network and tensor conversions.
        latency_ms: f64,
    },
    RenderFailed {
        model_id: String,
        generation: u64,
        error: String,
    },
}

type Wake = Box<dyn Fn() + Send>;

#[derive(Default)]
struct State {
    /// Each with the graph to run.
    to_load: VecDeque<(ModelPackage, Precision)>,
    /// Each with the style that replaces its seed, if any.
    pending: VecDeque<(RenderRequest, Option<Style>)>,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    wake: Mutex<Option<Wake>>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave State half-updated (every update is one push/replace).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

enum Job {
    Load(Box<ModelPackage>, Precision),
    Render(RenderRequest, Option<Style>),
}

/// Background inference with latest-wins scheduling. Dropping it stops the thread (after the
/// render in progress, if any).
pub struct InferenceWorker {
    shared: Arc<Shared>,
    events: Mutex<Receiver<WorkerEvent>>,
    thread: Option<JoinHandle<()>>,
}

impl InferenceWorker {
    /// Starts the thread; it loads `packages` (in order, before any render; the graph
    /// `precision` asks for, see [`Generator::load_with`]) and reports each with `ModelLoaded`
    /// or `ModelFailed`. Requests submitted meanwhile wait in their slots.
    pub fn spawn(
        packages: Vec<ModelPackage>,
        pref: ProviderPreference,
        precision: Precision,
    ) -> InferenceWorker {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                to_load: packages.into_iter().map(|p| (p, precision)).collect(),
                ..State::default()
            }),
            work: Condvar::new(),
            wake: Mutex::new(None),
        });
        let (tx, rx) = channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("scenebrush-inference".into())
            .spawn(move || worker_loop(&thread_shared, &tx, pref));
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!("cannot start the inference thread: {e}");
                None
            }
        };
        InferenceWorker {
            shared,
            events: Mutex::new(rx),
            thread,
        }
    }

    /// Queues a render; replaces a request for the same model that has not started yet.
    /// Never waits for inference.
    pub fn submit(&self, req: RenderRequest) {
        self.submit_slot(req, None);
    }

    /// [`InferenceWorker::submit`] with a style instead of the request's seed (a photo's style
    /// vector, or a seed): the image is [`crate::style::generate`]'s. `Rendered` reports the
    /// request's `seed` field as given. A vector made for another model fails the render
    /// (`RenderFailed`, naming both models).
    pub fn submit_with_style(&self, req: RenderRequest, style: Style) {
        self.submit_slot(req, Some(style));
    }

    fn submit_slot(&self, req: RenderRequest, style: Option<Style>) {
        let mut state = self.shared.state();
        if let Some(slot) = state
            .pending
            .iter_mut()
            .find(|(r, _)| r.model_id == req.model_id)
        {
            *slot = (req, style);
        } else {
            state.pending.push_back((req, style));
        }
        drop(state);
        self.shared.work.notify_one();
    }

    /// Loads (or reloads, replacing the session of the same id) a package on the worker thread,
    /// the graph `precision` asks for. Renders already waiting are made after it.
    pub fn add_package(&self, package: ModelPackage, precision: Precision) {
        self.shared.state().to_load.push_back((package, precision));
        self.shared.work.notify_one();
    }

    /// The next event, if one is ready.
    pub fn try_recv(&self) -> Option<WorkerEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .try_recv()
            .ok()
    }

    /// Waits up to `timeout` for the next event (tests, command line, benchmarks).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<WorkerEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .recv_timeout(timeout)
            .ok()
    }

    /// Called after every event is sent, e.g. `egui::Context::request_repaint`.
    pub fn set_wake(&self, f: Box<dyn Fn() + Send>) {
        *self.shared.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
    }

    /// Number of requests waiting (at most one per model).
    pub fn pending(&self) -> usize {
        self.shared.state().pending.len()
    }

    /// False when the thread could not be started or has stopped.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for InferenceWorker {
    fn drop(&mut self) {
        self.shared.state().shutdown = true;
        self.shared.work.notify_all();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("the inference thread panicked");
        }
    }
}

fn next_job(shared: &Shared) -> Option<Job> {
    let mut state = shared.state();
    loop {
        if state.shutdown {
            return None;
        }
        if let Some((p, precision)) = state.to_load.pop_front() {
            return Some(Job::Load(Box::new(p), precision));
        }
        if let Some((r, style)) = state.pending.pop_front() {
            return Some(Job::Render(r, style));
        }
        state = shared.work.wait(state).unwrap_or_else(|p| p.into_inner());
    }
}

fn worker_loop(shared: &Shared, tx: &Sender<WorkerEvent>, pref: ProviderPreference) {
    let mut generators: HashMap<String, Generator> = HashMap::new();
    let mut failed: HashMap<String, String> = HashMap::new();
    let send = |event: WorkerEvent| {
        // The receiver is gone only while the worker is being dropped.
        let _ = tx.send(event);
        if let Some(wake) = shared
            .wake
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            wake();
        }
    };
    while let Some(job) = next_job(shared) {
        match job {
            Job::Load(package, precision) => {
                let id = package.meta.id.clone();
                generators.remove(&id);
                match Generator::load_with(&package, pref, precision) {
                    Ok(g) => {
                        failed.remove(&id);
                        let event = WorkerEvent::ModelLoaded {
                            model_id: id.clone(),
                            provider: g.provider().clone(),
                            load_ms: g.load_ms(),
                            graph: g.graph().clone(),
                        };
                        generators.insert(id, g);
                        send(event);
                    }
                    Err(e) => {
                        tracing::warn!("model {id} failed to load: {e}");
                        failed.insert(id.clone(), e.to_string());
                        send(WorkerEvent::ModelFailed {
                            model_id: id,
                            error: e.to_string(),
                        });
                    }
                }
            }
            Job::Render(req, style) => {
                let event = match generators.get_mut(&req.model_id) {
                    Some(g) => {
                        let start = Instant::now();
                        let image = match &style {
                            None => g.generate(&req.labels, req.seed).map_err(|e| e.to_string()),
                            Some(style) => crate::style::generate(g, &req.labels, style)
                                .map_err(|e| e.to_string()),
                        };
                        match image {
                            Ok(image) => WorkerEvent::Rendered {
                                model_id: req.model_id,
                                generation: req.generation,
                                seed: req.seed,
                                image,
                                latency_ms: start.elapsed().as_secs_f64() * 1e3,
                            },
                            Err(error) => WorkerEvent::RenderFailed {
                                model_id: req.model_id,
                                generation: req.generation,
                                error,
                            },
                        }
                    }
                    None => {
                        let error = match failed.get(&req.model_id) {
                            Some(reason) => {
                                format!("model {} is unavailable: {reason}", req.model_id)
                            }
                            None => format!(
                                "model {} is not loaded; add its package first",
                                req.model_id
                            ),
                        };
                        WorkerEvent::RenderFailed {
                            model_id: req.model_id,
                            generation: req.generation,
                            error,
                        }
                    }
                };
                send(event);
            }
        }
    }
}
