//! Inference benchmark: for each generator package, session creation, warm inference latency
//! and stroke-to-image latency through the latest-wins worker.
//!
//! cargo bench --bench inference [-- --models-dir DIR ... --runs 30 --provider auto]
//! Without --models-dir: the app's model folders plus tests/fixtures/models.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use scenebrush::canvas::{LabelMap, paint_stroke};
use scenebrush::inference::{
    Generator, InferenceWorker, ProviderPreference, RenderRequest, WorkerEvent, init_runtime,
};
use scenebrush::io::load_label_png_for;
use scenebrush::models::{ModelPackage, ModelRegistry, default_model_dirs};

struct Options {
    dirs: Vec<PathBuf>,
    runs: usize,
    provider: ProviderPreference,
    /// `cargo test --all-targets` runs this binary without `--bench`: a short smoke run then.
    quick: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut dirs = Vec::new();
    let mut runs = 30;
    let mut provider = ProviderPreference::Auto;
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
            "--bench" => quick = false, // passed by `cargo bench`
            other => {
                bail!("unknown argument {other:?}; use --models-dir DIR, --runs N, --provider NAME")
            }
        }
    }
    if dirs.is_empty() {
        dirs = default_model_dirs();
        dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models"));
    }
    Ok(Options {
        dirs,
        runs: if quick { 3 } else { runs.max(3) },
        provider,
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

fn bench_package(package: &ModelPackage, opts: &Options) -> anyhow::Result<()> {
    let m = &package.meta;
    println!(
        "\n## {} ({}, {}x{}, arch {}, disc {})",
        m.id,
        m.name,
        m.width,
        m.height,
        m.architecture,
        m.discriminator.as_deref().unwrap_or("-")
    );
    let onnx_mb = std::fs::metadata(package.onnx_path())
        .map(|md| md.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!("model.onnx: {onnx_mb:.1} MB");

    // Session creation (fresh each time; the first also pays for reading the file cold).
    let mut session_ms = Vec::new();
    let mut warmup_ms = Vec::new();
    let mut generator = None;
    for _ in 0..3 {
        let g = Generator::load(package, opts.provider)?;
        session_ms.push(g.load_timings().session_ms);
        warmup_ms.push(g.load_timings().warmup_ms);
        generator = Some(g);
    }
    let Some(mut generator) = generator else {
        bail!("no generator")
    };
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
    let (med, p90) = stats(times);
    println!(
        "warm inference ({} runs): median {med:.1} ms, p90 {p90:.1} ms",
        opts.runs
    );
    drop(generator);

    // Stroke end -> image ready on the UI side: paint a stroke, submit, wait for the event.
    let worker = InferenceWorker::spawn(vec![package.clone()], opts.provider);
    loop {
        match worker.recv_timeout(Duration::from_secs(120)) {
            Some(WorkerEvent::ModelLoaded { .. }) => break,
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
    let (med, p90) = stats(latencies);
    println!(
        "stroke end -> image ({} strokes): median {med:.1} ms, p90 {p90:.1} ms",
        opts.runs
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
    Ok(())
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
        "ONNX Runtime {} ({}), provider preference {}",
        rt.version,
        rt.library_path.display(),
        opts.provider
    );
    let registry = ModelRegistry::scan(&opts.dirs);
    for e in &registry.entries {
        if let Some(reason) = e.reason() {
            println!("skipped {}: {reason}", e.id);
        }
    }
    let packages: Vec<ModelPackage> = registry.generators().cloned().collect();
    if packages.is_empty() {
        bail!("no generator packages in {:?}", opts.dirs);
    }
    for p in &packages {
        bench_package(p, &opts)?;
    }
    Ok(())
}
