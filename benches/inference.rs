//! Inference benchmark: for each generator package and each of its graphs (model.onnx, and the
//! int8 variant when the package has one), session creation, warm inference latency and
//! stroke-to-image latency through the latest-wins worker; a summary table compares the graphs
//! measured in this one run, with the same settings.
//!
//! cargo bench --bench inference [-- --models-dir DIR ... --runs 30 --provider auto --precision float]
//! Without --models-dir: the app's model folders plus tests/fixtures/models and
//! tests/fixtures/int8-models. `--precision float` measures model.onnx only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use scenebrush::canvas::{LabelMap, paint_stroke};
use scenebrush::inference::{
    Generator, InferenceWorker, ProviderPreference, RenderRequest, WorkerEvent, init_runtime,
};
use scenebrush::io::load_label_png_for;
use scenebrush::models::{GraphUsed, ModelPackage, ModelRegistry, Precision, default_model_dirs};

struct Options {
    dirs: Vec<PathBuf>,
    runs: usize,
    provider: ProviderPreference,
    /// `Auto`: every graph of each package; `Float`: model.onnx only.
    precision: Precision,
    /// `cargo test --all-targets` runs this binary without `--bench`: a short smoke run then.
    quick: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut dirs = Vec::new();
    let mut runs = 30;
    let mut provider = ProviderPreference::Auto;
    let mut precision = Precision::Auto;
    let mut quick = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--models-dir" => dirs.push(PathBuf::from(args.next().context("--models-dir DIR")?)),
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--provider" => {
                provider = args
                    .next()
                    .context("--provider NAME")?
                    .parse()
                    .map_err(anyhow::Error::msg)?
            }
            "--precision" => {
                precision = args
                    .next()
                    .context("--precision auto|float")?
                    .parse()
                    .map_err(anyhow::Error::msg)?
            }
            "--bench" => quick = false, // passed by `cargo bench`
            other => {
                bail!(
                    "unknown argument {other:?}; use --models-dir DIR, --runs N, --provider NAME, \
                     --precision auto|float"
                )
            }
        }
    }
    if dirs.is_empty() {
        dirs = default_model_dirs();
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        dirs.push(fixtures.join("models"));
        dirs.push(fixtures.join("int8-models"));
    }
    Ok(Options {
        dirs,
        runs: if quick { 3 } else { runs.max(3) },
        provider,
        precision,
        quick,
    })
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// (median, p90) of milliseconds.
fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9))
}

fn layout_for(package: &ModelPackage) -> LabelMap {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/layouts/city_street.png");
    load_label_png_for(&file, &package.meta)
        .unwrap_or_else(|_| LabelMap::new(package.meta.width, package.meta.height, 0))
}

fn wait_rendered(worker: &InferenceWorker, generation: u64) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        match worker.recv_timeout(Duration::from_millis(50)) {
            Some(WorkerEvent::Rendered { generation: g, .. }) if g == generation => {
                return Ok(Instant::now());
            }
            Some(
                WorkerEvent::RenderFailed { error, .. } | WorkerEvent::ModelFailed { error, .. },
            ) => {
                bail!("{error}")
            }
            _ => {}
        }
    }
    bail!("no image for generation {generation} within 120 s")
}

/// One graph's figures, for the summary.
struct Row {
    id: String,
    graph: &'static str,
    file_mb: f64,
    session_ms: f64,
    warm: (f64, f64),
    stroke: (f64, f64),
}

/// The graphs of a package to measure: model.onnx, then the int8 variant when the package has
/// one (and `--precision` is auto).
fn graphs(package: &ModelPackage, opts: &Options) -> Vec<Precision> {
    let mut v = vec![Precision::Float];
    if opts.precision == Precision::Auto && package.int8.path().is_some() {
        v.push(Precision::Auto);
    }
    v
}

fn bench_package(
    package: &ModelPackage,
    precision: Precision,
    opts: &Options,
) -> anyhow::Result<Option<Row>> {
    let m = &package.meta;
    let graph = match precision {
        Precision::Float => "float",
        Precision::Auto => "int8",
    };
    println!(
        "\n## {} [{graph}] ({}, {}x{}, arch {}, disc {})",
        m.id,
        m.name,
        m.width,
        m.height,
        m.architecture,
        m.discriminator.as_deref().unwrap_or("-")
    );

    // Session creation (fresh each time; the first also pays for reading the file cold).
    let mut session_ms = Vec::new();
    let mut warmup_ms = Vec::new();
    let mut generator = None;
    for _ in 0..3 {
        let g = Generator::load_with(package, opts.provider, precision)?;
        if precision == Precision::Auto && !g.graph().is_int8() {
            // The int8 variant did not load: the float row already measures what runs.
            println!(
                "skipped: {}",
                g.graph().note().unwrap_or("the int8 variant is not used")
            );
            return Ok(None);
        }
        session_ms.push(g.load_timings().session_ms);
        warmup_ms.push(g.load_timings().warmup_ms);
        generator = Some(g);
    }
    let Some(mut generator) = generator else {
        bail!("no generator")
    };
    let file = generator.path().to_path_buf();
    let file_mb = std::fs::metadata(&file)
        .map(|md| md.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!(
        "{}: {file_mb:.1} MB",
        file.file_name().unwrap_or_default().to_string_lossy()
    );
    println!("provider: {}", generator.provider());
    let (s_med, _) = stats(session_ms);
    let (w_med, _) = stats(warmup_ms);
    println!("session creation: {s_med:.1} ms (median of 3); warm-up run: {w_med:.1} ms");

    // Warm inference: label map -> RGBA image, as the app calls it.
    let layout = layout_for(package);
    let mut times = Vec::new();
    for i in 0..opts.runs {
        let t = Instant::now();
        generator.generate(&layout, i as u64)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let warm = stats(times);
    println!(
        "warm inference ({} runs): median {:.1} ms, p90 {:.1} ms",
        opts.runs, warm.0, warm.1
    );
    drop(generator);

    // Stroke end -> image ready on the UI side: paint a stroke, submit, wait for the event.
    let worker = InferenceWorker::spawn(vec![package.clone()], opts.provider, precision);
    loop {
        match worker.recv_timeout(Duration::from_secs(120)) {
            Some(WorkerEvent::ModelLoaded { graph, .. }) => {
                if precision == Precision::Auto && graph != GraphUsed::Int8 {
                    bail!("the worker did not load the int8 variant: {graph:?}");
                }
                break;
            }
            Some(WorkerEvent::ModelFailed { error, .. }) => bail!("{error}"),
            Some(_) => {}
            None => bail!("model did not load within 120 s"),
        }
    }
    let mut map = layout.clone();
    let mut latencies = Vec::new();
    for g in 0..opts.runs as u64 {
        let x = (g as f32 * 13.0) % map.width() as f32;
        paint_stroke(&mut map, (x, 100.0), (x + 20.0, 140.0), 6.0, (g % 4) as u8);
        let t = Instant::now();
        worker.submit(RenderRequest {
            model_id: m.id.clone(),
            labels: Arc::new(map.clone()),
            seed: 1,
            generation: g,
        });
        let done = wait_rendered(&worker, g)?;
        latencies.push(done.duration_since(t).as_secs_f64() * 1e3);
    }
    let stroke = stats(latencies);
    println!(
        "stroke end -> image ({} strokes): median {:.1} ms, p90 {:.1} ms",
        opts.runs, stroke.0, stroke.1
    );

    // Painting continuously: a request every 16 ms (60 Hz) for 2 s; latest-wins keeps up.
    let start = Instant::now();
    let first = 1_000_000u64;
    let mut g = first;
    let mut rendered = 0;
    let mut last_submit = start;
    let mut last_rendered: Option<(u64, Instant)> = None;
    let span = Duration::from_millis(if opts.quick { 200 } else { 2000 });
    while start.elapsed() < span {
        let x = (g as f32 * 3.0) % map.width() as f32;
        paint_stroke(&mut map, (x, 60.0), (x + 3.0, 62.0), 4.0, 5);
        last_submit = Instant::now();
        worker.submit(RenderRequest {
            model_id: m.id.clone(),
            labels: Arc::new(map.clone()),
            seed: 1,
            generation: g,
        });
        let tick = last_submit + Duration::from_millis(16);
        while let Some(e) = worker.recv_timeout(tick.saturating_duration_since(Instant::now())) {
            if let WorkerEvent::Rendered { generation, .. } = e {
                rendered += 1;
                last_rendered = Some((generation, Instant::now()));
            }
        }
        g += 1;
    }
    let last = match last_rendered {
        Some((generation, at)) if generation == g - 1 => at,
        _ => {
            rendered += 1;
            wait_rendered(&worker, g - 1)?
        }
    };
    println!(
        "continuous painting (60 Hz for {:.1} s): {} requests, {rendered} images ({:.1}/s), \
         last image {:.1} ms after the stroke ended",
        span.as_secs_f64(),
        g - first,
        f64::from(rendered) / span.as_secs_f64(),
        last.duration_since(last_submit).as_secs_f64() * 1e3
    );
    Ok(Some(Row {
        id: m.id.clone(),
        graph,
        file_mb,
        session_ms: s_med,
        warm,
        stroke,
    }))
}

/// Every graph measured, one row each; int8 rows with their speed-up over the float row of the
/// same package (same run, same settings).
fn print_summary(rows: &[Row]) {
    println!("\n## Summary (this run)\n");
    println!(
        "| package | graph | file | session creation | warm inference median / p90 | \
         stroke end -> image median / p90 | warm speed-up |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        let float = rows
            .iter()
            .find(|f| f.id == r.id && f.graph == "float")
            .filter(|_| r.graph != "float");
        let speedup = float.map_or_else(
            || "-".to_string(),
            |f| format!("{:.2}x", f.warm.0 / r.warm.0),
        );
        println!(
            "| {} | {} | {:.1} MB | {:.1} ms | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {speedup} |",
            r.id, r.graph, r.file_mb, r.session_ms, r.warm.0, r.warm.1, r.stroke.0, r.stroke.1
        );
    }
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    let rt = init_runtime()?;
    println!("# SceneBrush inference benchmark");
    println!(
        "machine: {}, {} logical cores, {} {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    println!(
        "ONNX Runtime {} ({}), provider preference {}, precision {}",
        rt.version,
        rt.library_path.display(),
        opts.provider,
        opts.precision
    );
    let registry = ModelRegistry::scan(&opts.dirs);
    for e in &registry.entries {
        if let Some(reason) = e.reason() {
            println!("skipped {}: {reason}", e.id);
        }
        if let Some(reason) = e.package.as_ref().and_then(|p| p.int8.problem()) {
            println!("{}: float only: {reason}", e.id);
        }
    }
    let packages: Vec<ModelPackage> = registry.generators().cloned().collect();
    if packages.is_empty() {
        bail!("no generator packages in {:?}", opts.dirs);
    }
    let mut rows = Vec::new();
    for p in &packages {
        for precision in graphs(p, &opts) {
            rows.extend(bench_package(p, precision, &opts)?);
        }
    }
    print_summary(&rows);
    Ok(())
}
