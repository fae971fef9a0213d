//! ONNX Runtime sessions for model packages: creation, the input/output check against
//! model.json, warm-up and inference.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Array2, Array3, Array4, ArrayView2};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{Tensor, TensorElementType, ValueType};

use super::providers::{ProviderPreference, ProviderReport, register_providers};
use super::runtime::{RuntimeError, environment};
use super::tensor::{image_from_tensor, label_tensor_from_map, z_from_seed};
use crate::canvas::LabelMap;
use crate::models::{GraphUsed, Int8Variant, ModelKind, ModelMeta, ModelPackage, Precision};

#[derive(Debug, Clone, thiserror::Error)]
pub enum InferenceError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(
        "cannot open {}: {message}; copy or export the file again (a package's network is one \
         complete ONNX file, opset 17 or newer)", .path.display()
    )]
    Session { path: PathBuf, message: String },
    #[error("{}: {message}", .path.display())]
    Mismatch { path: PathBuf, message: String },
    #[error("{model} is a {kind}, not a generator; choose a generator model")]
    NotAGenerator { model: String, kind: ModelKind },
    #[error(
        "{model} is a {kind}, not a segmenter; choose a segmenter model (`scenebrush models` lists them)"
    )]
    NotASegmenter { model: String, kind: ModelKind },
    #[error(
        "model {model} has no style encoder ({} is not there), so it cannot take the style of a \
         photo; use a seed with it, or a model trained with a style encoder",
        .path.display()
    )]
    NoEncoder { model: String, path: PathBuf },
    #[error("cannot read the photo {}: {message}", .path.display())]
    Photo { path: PathBuf, message: String },
    #[error(
        "the label map has class id {class} ({count} pixels), which model {model} does not know \
         (its ids are 0..{max}); repaint those pixels or open the layout with the model it was made for"
    )]
    UnknownClass {
        model: String,
        class: u8,
        count: u64,
        max: usize,
    },
    #[error("z for model {model} has shape {got:?}, expected [1, {z_dim}]")]
    BadZ {
        model: String,
        got: Vec<usize>,
        z_dim: usize,
    },
    #[error("running model {model} failed: {message}")]
    Run { model: String, message: String },
}

/// Expected dimension of a tensor: a fixed size, or any (the batch).
#[derive(Debug, Clone, Copy)]
enum Dim {
    Any,
    Is(i64),
}

struct Expect<'a> {
    name: &'a str,
    ty: TensorElementType,
    dims: Vec<Dim>,
    /// What a fixed dimension means, for messages: ("height", "model.json height").
    dim_names: Vec<&'a str>,
}

fn expected_io(meta: &ModelMeta) -> (Vec<Expect<'static>>, Vec<Expect<'static>>) {
    let (h, w) = (i64::from(meta.height), i64::from(meta.width));
    match meta.kind {
        ModelKind::Generator => {
            let mut inputs = vec![Expect {
                name: "label",
                ty: TensorElementType::Int64,
                dims: vec![Dim::Any, Dim::Is(h), Dim::Is(w)],
                dim_names: vec!["batch", "height", "width"],
            }];
            if meta.z_dim > 0 {
                inputs.push(Expect {
                    name: "z",
                    ty: TensorElementType::Float32,
                    dims: vec![Dim::Any, Dim::Is(meta.z_dim as i64)],
                    dim_names: vec!["batch", "z_dim"],
                });
            }
            let outputs = vec![Expect {
                name: "image",
                ty: TensorElementType::Float32,
                dims: vec![Dim::Any, Dim::Is(3), Dim::Is(h), Dim::Is(w)],
                dim_names: vec!["batch", "channels", "height", "width"],
            }];
            (inputs, outputs)
        }
        ModelKind::Segmenter => (
            vec![Expect {
                name: "image",
                ty: TensorElementType::Float32,
                dims: vec![Dim::Any, Dim::Is(3), Dim::Is(h), Dim::Is(w)],
                dim_names: vec!["batch", "channels", "height", "width"],
            }],
            vec![Expect {
                name: "logits",
                ty: TensorElementType::Float32,
                dims: vec![
                    Dim::Any,
                    Dim::Is(meta.classes.len() as i64),
                    Dim::Is(h),
                    Dim::Is(w),
                ],
                dim_names: vec!["batch", "classes", "height", "width"],
            }],
        ),
    }
}

fn check_outlets(
    what: &str,
    outlets: &[ort::value::Outlet],
    expected: &[Expect],
    meta: &ModelMeta,
) -> Result<(), String> {
    for e in expected {
        let Some(o) = outlets.iter().find(|o| o.name() == e.name) else {
            let names: Vec<&str> = outlets.iter().map(|o| o.name()).collect();
            return Err(format!(
                "has no {what} `{}` (its {what}s are {names:?}); a {} package needs {what} `{}`",
                e.name, meta.kind, e.name
            ));
        };
        let ValueType::Tensor { ty, shape, .. } = o.dtype() else {
            return Err(format!("{what} `{}` is not a tensor", e.name));
        };
        if *ty != e.ty {
            return Err(format!("{what} `{}` is {ty}, expected {}", e.name, e.ty));
        }
        let dims: &[i64] = shape;
        if dims.len() != e.dims.len() {
            return Err(format!(
                "{what} `{}` has shape {dims:?}, expected {} dimensions [{}]",
                e.name,
                e.dims.len(),
                e.dim_names.join(", ")
            ));
        }
        for ((&got, want), dim_name) in dims.iter().zip(&e.dims).zip(&e.dim_names) {
            // Negative sizes are symbolic (dynamic) in the graph: they fit any value.
            if let Dim::Is(want) = *want
                && got >= 0
                && got != want
            {
                return Err(format!(
                    "{what} `{}` has shape {dims:?}: its {dim_name} is {got} but model.json says {want}",
                    e.name
                ));
            }
        }
    }
    if what == "input" {
        let extra: Vec<&str> = outlets
            .iter()
            .map(|o| o.name())
            .filter(|n| !expected.iter().any(|e| e.name == *n))
            .collect();
        if !extra.is_empty() {
            let hint = if extra.contains(&"z") {
                " (model.json has z_dim 0 but the network takes `z`: set z_dim)"
            } else {
                ""
            };
            return Err(format!("has unexpected inputs {extra:?}{hint}"));
        }
    }
    Ok(())
}

/// Checks a session's inputs and outputs against the package metadata.
pub(crate) fn check_session_io(session: &Session, meta: &ModelMeta) -> Result<(), String> {
    let (inputs, outputs) = expected_io(meta);
    check_outlets("input", session.inputs(), &inputs, meta)?;
    check_outlets("output", session.outputs(), &outputs, meta)
}

/// A generator's class count against its graph: the `label` input has no class dimension (the
/// one-hot encoding is inside the graph), so the width of that encoding is read from the file.
/// A graph encoded some other way cannot be checked and passes.
fn check_generator_classes(path: &Path, meta: &ModelMeta) -> Result<(), String> {
    if meta.kind != ModelKind::Generator {
        return Ok(());
    }
    // The session has just read this file; if it cannot be read again there is nothing to add.
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(());
    };
    let declared = meta.classes.len();
    match crate::models::one_hot_classes(&bytes, "label") {
        Some(network) if network != declared => {
            let json = path.with_file_name(crate::models::METADATA_FILE);
            Err(format!(
                "the network encodes {network} classes (ids 0..{}) but {} lists {declared}{}; \
                 make that class list the {network} classes the network was trained with, or \
                 export the package again from its checkpoint",
                network.saturating_sub(1),
                json.display(),
                match declared - network.min(declared) {
                    0 => String::new(),
                    1 => format!(", so id {network} would render as garbage"),
                    _ => format!(
                        ", so ids {network}..{} would render as garbage",
                        declared - 1
                    ),
                }
            ))
        }
        _ => Ok(()),
    }
}

/// Everything about a network that must agree with its model.json.
fn check_network(session: &Session, path: &Path, meta: &ModelMeta) -> Result<(), InferenceError> {
    check_session_io(session, meta)
        .map_err(|m| {
            format!(
                "{m}; model.json must describe this network: correct it, or export the package \
                 again from its checkpoint"
            )
        })
        .and_then(|()| check_generator_classes(path, meta))
        .map_err(|message| InferenceError::Mismatch {
            path: path.to_path_buf(),
            message,
        })
}

fn intra_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn session_error(path: &Path, e: impl std::fmt::Display) -> InferenceError {
    InferenceError::Session {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Creates a session on the preferred provider, falling back to CPU.
pub(super) fn create_session(
    path: &Path,
    pref: ProviderPreference,
) -> Result<(Session, ProviderReport), InferenceError> {
    let env = environment()?;
    let base = || -> Result<_, InferenceError> {
        Session::builder(env)
            .and_then(|b| {
                b.with_optimization_level(GraphOptimizationLevel::All)
                    .map_err(ort::Error::from)
            })
            .and_then(|b| {
                b.with_intra_threads(intra_threads())
                    .map_err(ort::Error::from)
            })
            .map_err(|e| session_error(path, e))
    };
    let mut builder = base()?;
    let (accelerator, mut notes) = register_providers(&mut builder, pref);
    match builder.commit_from_file(path) {
        Ok(s) => Ok((
            s,
            ProviderReport {
                used: accelerator.unwrap_or("CPU").to_string(),
                notes,
            },
        )),
        Err(e) if accelerator.is_some() => {
            notes.push(format!(
                "{} failed for this model ({e}); running on CPU",
                accelerator.unwrap_or_default()
            ));
            let s = base()?
                .commit_from_file(path)
                .map_err(|e| session_error(path, e))?;
            Ok((
                s,
                ProviderReport {
                    used: "CPU".into(),
                    notes,
                },
            ))
        }
        Err(e) => Err(session_error(path, e)),
    }
}

/// Opens a graph without optimisation (fast) and checks its inputs and outputs against `meta`.
fn check_graph(path: &Path, meta: &ModelMeta) -> Result<(), InferenceError> {
    let env = environment()?;
    let session = Session::builder(env)
        .and_then(|b| {
            b.with_optimization_level(GraphOptimizationLevel::Disable)
                .map_err(ort::Error::from)
        })
        .and_then(|b| b.with_intra_threads(1).map_err(ort::Error::from))
        .and_then(|mut b| b.commit_from_file(path))
        .map_err(|e| session_error(path, e))?;
    check_network(&session, path, meta)
}

/// Opens a package's network (model.onnx) without optimisation (fast) and checks its inputs and
/// outputs. The int8 variant is checked by [`check_int8_variant`].
pub fn check_package(package: &ModelPackage) -> Result<(), InferenceError> {
    check_graph(&package.onnx_path(), &package.meta)
}

/// Checks a package's int8 variant exactly as [`check_package`] checks model.onnx. Returns the
/// variant as it can be used: unchanged when absent, already unusable or fine; else unusable
/// with the reason (naming the file), so that the float graph runs instead.
pub fn check_int8_variant(package: &ModelPackage) -> Int8Variant {
    match package.int8.path() {
        Some(path) => match check_graph(path, &package.meta) {
            Ok(()) => package.int8.clone(),
            Err(e) => Int8Variant::Unusable {
                reason: int8_not_used(&e),
            },
        },
        None => package.int8.clone(),
    }
}

/// Why the int8 variant is not used, as a note.
fn int8_not_used(e: &InferenceError) -> String {
    format!("the int8 variant is not used ({e}); model.onnx (float) runs instead")
}

/// A generator package with its ONNX Runtime session, created once and warmed up.
pub struct Generator {
    session: Session,
    meta: ModelMeta,
    path: PathBuf,
    provider: ProviderReport,
    timings: LoadTimings,
    /// model.onnx or the int8 variant (and why not that one, when it was wanted).
    graph: GraphUsed,
}

/// Where the time of [`Generator::load`] went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoadTimings {
    /// Creating the ONNX Runtime session (graph optimisation, provider set-up).
    pub session_ms: f64,
    /// The first run, which allocates buffers and picks kernels.
    pub warmup_ms: f64,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("id", &self.meta.id)
            .field("path", &self.path)
            .field("provider", &self.provider)
            .field("graph", &self.graph)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// The float graph (model.onnx): creates the session on the preferred provider, checks it
    /// against model.json and runs it once (the first run allocates and tunes, so later runs
    /// have steady latency). [`Generator::load_with`] may run the int8 variant instead.
    pub fn load(
        package: &ModelPackage,
        pref: ProviderPreference,
    ) -> Result<Generator, InferenceError> {
        Self::load_with(package, pref, Precision::Float)
    }

    /// As [`Generator::load`], with the graph `precision` asks for: with `Auto`, the package's
    /// int8 variant when it has one, checked as model.onnx is. An int8 variant that cannot be
    /// opened, does not match model.json or fails its first run never fails the load: the float
    /// graph runs instead and [`Generator::graph`] says why.
    pub fn load_with(
        package: &ModelPackage,
        pref: ProviderPreference,
        precision: Precision,
    ) -> Result<Generator, InferenceError> {
        let meta = &package.meta;
        if meta.kind != ModelKind::Generator {
            return Err(InferenceError::NotAGenerator {
                model: meta.id.clone(),
                kind: meta.kind,
            });
        }
        let float = || Self::load_graph(package.onnx_path(), meta, pref);
        let (mut generator, graph) = match (precision, &package.int8) {
            (Precision::Float, _) | (Precision::Auto, Int8Variant::Absent) => {
                (float()?, GraphUsed::Float)
            }
            (Precision::Auto, Int8Variant::Unusable { reason }) => (
                float()?,
                GraphUsed::FloatInstead {
                    reason: reason.clone(),
                },
            ),
            (Precision::Auto, Int8Variant::Listed { path, .. }) => {
                match Self::load_graph(path.clone(), meta, pref) {
                    Ok(g) => (g, GraphUsed::Int8),
                    Err(e) => {
                        let reason = int8_not_used(&e);
                        tracing::info!("{}: {reason}", meta.id);
                        (float()?, GraphUsed::FloatInstead { reason })
                    }
                }
            }
        };
        generator.graph = graph;
        Ok(generator)
    }

    /// One graph of a generator package: session, check, warm-up.
    fn load_graph(
        path: PathBuf,
        meta: &ModelMeta,
        pref: ProviderPreference,
    ) -> Result<Generator, InferenceError> {
        let meta = meta.clone();
        let start = Instant::now();
        let (session, provider) = create_session(&path, pref)?;
        let session_ms = start.elapsed().as_secs_f64() * 1e3;
        check_network(&session, &path, &meta)?;
        tracing::info!(
            "{}: session on {provider} ({})",
            meta.id,
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let mut generator = Generator {
            session,
            meta,
            path,
            provider,
            timings: LoadTimings::default(),
            graph: GraphUsed::Float,
        };
        let blank = LabelMap::new(
            generator.meta.width,
            generator.meta.height,
            generator.meta.dontcare.unwrap_or(0),
        );
        let warmup = Instant::now();
        generator.generate(&blank, 0)?;
        generator.timings = LoadTimings {
            session_ms,
            warmup_ms: warmup.elapsed().as_secs_f64() * 1e3,
        };
        Ok(generator)
    }

    pub fn provider(&self) -> &ProviderReport {
        &self.provider
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// The graph this session runs: model.onnx or the int8 variant.
    pub fn graph(&self) -> &GraphUsed {
        &self.graph
    }

    /// The file of the graph this session runs.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Session creation + check + warm-up time in milliseconds.
    pub fn load_ms(&self) -> f64 {
        self.timings.session_ms + self.timings.warmup_ms
    }

    pub fn load_timings(&self) -> LoadTimings {
        self.timings
    }

    /// The label map at the model's size (nearest resize if it differs), checked for unknown ids.
    pub fn fit_labels(&self, labels: &LabelMap) -> Result<LabelMap, InferenceError> {
        let map = labels.resized_nearest(self.meta.width, self.meta.height);
        let hist = map.histogram();
        let n = self.meta.classes.len();
        if let Some((class, &count)) = hist.iter().enumerate().skip(n).find(|(_, c)| **c > 0) {
            return Err(InferenceError::UnknownClass {
                model: self.meta.id.clone(),
                class: class as u8,
                count,
                max: n - 1,
            });
        }
        Ok(map)
    }

    /// Runs the network on `labels` with an explicit z ([1, z_dim]; ignored when z_dim is 0) and
    /// returns the raw `image` output [1, 3, H, W].
    pub fn infer(
        &mut self,
        labels: &LabelMap,
        z: ArrayView2<f32>,
    ) -> Result<Array4<f32>, InferenceError> {
        let map = self.fit_labels(labels)?;
        let label = label_tensor_from_map(&map);
        let z_dim = self.meta.z_dim;
        if z_dim > 0 && z.dim() != (1, z_dim) {
            return Err(InferenceError::BadZ {
                model: self.meta.id.clone(),
                got: z.shape().to_vec(),
                z_dim,
            });
        }
        self.run(label, (z_dim > 0).then(|| z.to_owned()))
    }

    fn run_error(&self, e: impl std::fmt::Display) -> InferenceError {
        InferenceError::Run {
            model: self.meta.id.clone(),
            message: e.to_string(),
        }
    }

    fn run(
        &mut self,
        label: Array3<i64>,
        z: Option<Array2<f32>>,
    ) -> Result<Array4<f32>, InferenceError> {
        let label = Tensor::from_array(label).map_err(|e| self.run_error(e))?;
        let outputs = match z {
            Some(z) => {
                let z = Tensor::from_array(z).map_err(|e| self.run_error(e))?;
                self.session.run(ort::inputs!["label" => label, "z" => z])
            }
            None => self.session.run(ort::inputs!["label" => label]),
        };
        let id = self.meta.id.clone();
        let err = |e: &dyn std::fmt::Display| InferenceError::Run {
            model: id.clone(),
            message: e.to_string(),
        };
        let outputs = outputs.map_err(|e| err(&e))?;
        let image = outputs
            .get("image")
            .ok_or_else(|| err(&"the network returned no `image` output"))?;
        let array = image.try_extract_array::<f32>().map_err(|e| err(&e))?;
        let array = array
            .into_dimensionality::<ndarray::Ix4>()
            .map_err(|e| err(&format!("`image` output is not 4-dimensional: {e}")))?;
        let (_, c, h, w) = array.dim();
        if c != 3 || h != self.meta.height as usize || w != self.meta.width as usize {
            return Err(err(&format!(
                "`image` output has shape {:?}, expected [1, 3, {}, {}]",
                array.shape(),
                self.meta.height,
                self.meta.width
            )));
        }
        Ok(array.to_owned())
    }

    /// Synthesizes an image from `labels` with z drawn from `seed`.
    pub fn generate(
        &mut self,
        labels: &LabelMap,
        seed: u64,
    ) -> Result<image::RgbaImage, InferenceError> {
        let z = z_from_seed(seed, self.meta.z_dim);
        let out = self.infer(labels, z.view())?;
        Ok(image_from_tensor(out.view()))
    }
}
