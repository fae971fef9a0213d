//! UI frame-time benchmark: the app's own frame (worker events, egui layout, canvas and result
//! texture updates, tessellation) timed frame by frame while someone paints non-stop at 60 Hz and
//! the models render in the background on the same CPU. Headless through egui_kittest, so the
//! GPU's share of a frame (drawing the tessellated meshes, presenting) is not in these figures.
//!
//! Before that, the time from start-up to the first image: `SceneBrushApp::new` (model
//! registry, sessions, warm-up runs) until the active model's first image is there, for each
//! precision setting, fresh apps interleaved.
//!
//! cargo bench --bench ui_frames [-- --models-dir DIR ... --seconds 10 --starts 3]
//! Without --models-dir: the app's model folders (the shipped models).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use egui::Pos2;
use egui_kittest::Harness;
use scenebrush::inference::ProviderPreference;
use scenebrush::models::{Precision, default_model_dirs};
use scenebrush::ui::{AppArgs, AppState, Command, LoadState, SceneBrushApp, View};

/// 60 Hz: the budget of a frame, and the pace of the simulated pointer.
const FRAME: Duration = Duration::from_micros(16_667);
/// Frames per stroke: a stroke ends (and the final layout goes out) once a second.
const STROKE_FRAMES: usize = 60;

struct Options {
    dirs: Vec<PathBuf>,
    seconds: f64,
    /// Fresh app starts per precision setting.
    starts: usize,
}

fn options() -> anyhow::Result<Options> {
    let mut dirs = Vec::new();
    let mut seconds = 10.0;
    let mut starts = 3;
    // `cargo test --all-targets` runs this binary without `--bench`: a short smoke run then.
    let mut quick = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--models-dir" => dirs.push(PathBuf::from(args.next().context("--models-dir DIR")?)),
            "--seconds" => seconds = args.next().context("--seconds S")?.parse()?,
            "--starts" => starts = args.next().context("--starts N")?.parse()?,
            "--bench" => quick = false,
            other => {
                bail!("unknown argument {other:?}; use --models-dir DIR, --seconds S, --starts N")
            }
        }
    }
    if dirs.is_empty() {
        dirs = if quick {
            vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")]
        } else {
            default_model_dirs()
        };
    }
    Ok(Options {
        dirs,
        seconds: if quick { 0.5 } else { seconds },
        starts: if quick { 1 } else { starts.max(1) },
    })
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The pointer's path: a zig-zag over the middle of the canvas, in label-map pixels.
fn pointer_at(app: &SceneBrushApp, frame: usize) -> Pos2 {
    let (w, h) = (app.labels().width() as f32, app.labels().height() as f32);
    let t = (frame % STROKE_FRAMES) as f32 / STROKE_FRAMES as f32;
    let row = (frame / STROKE_FRAMES) % 4;
    let x = w * (0.15 + 0.7 * t);
    let y = h * (0.3 + 0.12 * row as f32) + 6.0 * (t * 12.0).sin();
    app.canvas_to_screen(x, y)
}

fn app_args(opts: &Options) -> AppArgs {
    AppArgs {
        model_dirs: opts.dirs.clone(),
        labels: None,
        provider: ProviderPreference::Auto,
        session_file: None,
        ..Default::default()
    }
}

/// Milliseconds from `SceneBrushApp::new` until the active model's first image is there, and
/// the graph that made it.
fn start_to_first_image(opts: &Options, precision: Precision) -> anyhow::Result<(f64, String)> {
    let state = AppState {
        precision,
        ..AppState::default()
    };
    let start = Instant::now();
    let args = app_args(opts);
    let mut h = Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |_cc| SceneBrushApp::new(&args, state));
    loop {
        h.step();
        let app = h.state();
        if let Some(id) = app.state().active_model.clone()
            && app.result(&id).is_some()
        {
            let graph = match app.load_state(&id) {
                Some(LoadState::Loaded { graph, .. }) => format!("{id} ({})", graph.label()),
                _ => id,
            };
            return Ok((start.elapsed().as_secs_f64() * 1e3, graph));
        }
        if start.elapsed() > Duration::from_secs(180) {
            bail!("no first image within 180 s from {:?}", opts.dirs);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run_startup(opts: &Options) -> anyhow::Result<()> {
    println!(
        "\n## start-up to the first image ({} fresh starts per setting, interleaved)",
        opts.starts
    );
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); Precision::ALL.len()];
    let mut graphs = vec![String::new(); Precision::ALL.len()];
    for _ in 0..opts.starts {
        for (i, p) in Precision::ALL.into_iter().enumerate() {
            let (ms, graph) = start_to_first_image(opts, p)?;
            times[i].push(ms);
            graphs[i] = graph;
        }
    }
    for (i, p) in Precision::ALL.into_iter().enumerate() {
        times[i].sort_by(f64::total_cmp);
        println!(
            "precision {p}: median {:.0} ms (min {:.0}, max {:.0}); active model {}",
            percentile(&times[i], 0.5),
            times[i][0],
            percentile(&times[i], 1.0),
            graphs[i]
        );
    }
    Ok(())
}

fn run_view(opts: &Options, view: View) -> anyhow::Result<()> {
    let args = app_args(opts);
    let state = AppState {
        view,
        ..AppState::default()
    };
    let app = SceneBrushApp::new(&args, state);
    let mut h = Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |_cc| app);

    // Models loaded and the first images shown: then the painting starts.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        h.step();
        let app = h.state();
        if app.settled() {
            break;
        }
        if Instant::now() > deadline {
            bail!("the models did not load and render within 180 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let on_screen: Vec<String> = match view {
        View::Compare => h.state().state().compare_models.clone(),
        _ => h.state().state().active_model.iter().cloned().collect(),
    };
    if on_screen.is_empty() {
        bail!("no usable generator in {:?}", opts.dirs);
    }

    let frames = (opts.seconds / FRAME.as_secs_f64()).ceil() as usize;
    let mut times = Vec::with_capacity(frames);
    let mut busy_frames = 0;
    let mut images = 0;
    let mut last_seen: Vec<Option<u64>> = vec![None; on_screen.len()];
    for f in 0..frames {
        let start = Instant::now();
        let p = pointer_at(h.state(), f);
        match f % STROKE_FRAMES {
            0 => {
                // A new class for every stroke, so that every stroke changes the layout.
                let classes = h.state().classes().len().max(1);
                let class = ((f / STROKE_FRAMES) % classes) as u8;
                let ctx = h.ctx.clone();
                h.state_mut()
                    .apply_commands(&ctx, vec![Command::SelectClass(class)]);
                h.hover_at(p);
                h.drag_at(p);
            }
            n if n == STROKE_FRAMES - 1 => h.drop_at(p),
            _ => h.hover_at(p),
        }
        h.step();
        times.push(start.elapsed().as_secs_f64() * 1e3);

        let app = h.state();
        let mut busy = false;
        for (id, seen) in on_screen.iter().zip(last_seen.iter_mut()) {
            if app.load_state(id).is_none() {
                continue;
            }
            busy |= app.rendering(id);
            let version = app.result(id).map(|r| r.key.version);
            if version != *seen {
                images += 1;
                *seen = version;
            }
        }
        busy_frames += usize::from(busy);
        std::thread::sleep(FRAME.saturating_sub(start.elapsed()));
    }

    times.sort_by(f64::total_cmp);
    let over = times.iter().filter(|&&t| t > 16.0).count();
    println!(
        "\n## {} view: {} ({} frames at 60 Hz, painting non-stop)",
        if view == View::Compare {
            "compare"
        } else {
            "paint"
        },
        on_screen.join(", "),
        times.len()
    );
    println!(
        "UI frame: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {over} frames over 16 ms",
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
    );
    println!(
        "inference running in {:.0}% of the frames; {images} new images shown",
        100.0 * busy_frames as f64 / times.len() as f64
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let opts = options()?;
    println!("# SceneBrush UI frame-time benchmark");
    println!(
        "models from: {}",
        opts.dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    run_startup(&opts)?;
    run_view(&opts, View::Paint)?;
    run_view(&opts, View::Compare)
}
