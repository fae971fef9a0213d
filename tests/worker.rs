//! The latest-wins inference worker on real sessions.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{fixture_packages, runtime, sample_layout};
use scenebrush::canvas::{LabelMap, paint_stroke};
use scenebrush::inference::{InferenceWorker, ProviderPreference, RenderRequest, WorkerEvent};
use scenebrush::models::{ModelPackage, Precision};

const WAIT: Duration = Duration::from_secs(120);

fn request(p: &ModelPackage, labels: &Arc<LabelMap>, generation: u64) -> RenderRequest {
    RenderRequest {
        model_id: p.meta.id.clone(),
        labels: Arc::clone(labels),
        seed: 5,
        generation,
    }
}

/// Collects events until `done` says stop; panics after WAIT.
fn collect(
    worker: &InferenceWorker,
    mut done: impl FnMut(&WorkerEvent) -> bool,
) -> Vec<WorkerEvent> {
    let start = Instant::now();
    let mut events = Vec::new();
    while start.elapsed() < WAIT {
        if let Some(e) = worker.recv_timeout(Duration::from_millis(100)) {
            let stop = done(&e);
            events.push(e);
            if stop {
                return events;
            }
        }
    }
    panic!(
        "worker did not finish in {WAIT:?}; events so far: {}",
        events.len()
    );
}

fn rendered(events: &[WorkerEvent]) -> Vec<(String, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            WorkerEvent::Rendered {
                model_id,
                generation,
                ..
            } => Some((model_id.clone(), *generation)),
            WorkerEvent::RenderFailed { error, .. } => panic!("render failed: {error}"),
            WorkerEvent::ModelFailed { error, .. } => panic!("model failed: {error}"),
            WorkerEvent::ModelLoaded { .. } => None,
        })
        .collect()
}

#[test]
fn requests_submitted_while_loading_collapse_to_the_latest() {
    runtime();
    let package = fixture_packages().remove(0);
    let wakes = Arc::new(AtomicUsize::new(0));
    let worker = InferenceWorker::spawn(
        vec![package.clone()],
        ProviderPreference::Cpu,
        Precision::Float,
    );
    let counter = Arc::clone(&wakes);
    worker.set_wake(Box::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    // The worker loads its packages before any render, so all 50 requests meet in one slot.
    let labels = Arc::new(sample_layout(&package));
    for generation in 0..50 {
        worker.submit(request(&package, &labels, generation));
    }
    assert_eq!(worker.pending(), 1, "one slot per model");
    let events = collect(&worker, |e| {
        matches!(e, WorkerEvent::Rendered { generation: 49, .. })
    });
    assert!(matches!(events[0], WorkerEvent::ModelLoaded { .. }));
    assert_eq!(rendered(&events), vec![(package.meta.id.clone(), 49)]);
    match events.last() {
        Some(WorkerEvent::Rendered {
            image,
            seed,
            latency_ms,
            ..
        }) => {
            assert_eq!(
                image.dimensions(),
                (package.meta.width, package.meta.height)
            );
            assert_eq!(*seed, 5);
            assert!(*latency_ms > 0.0);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nothing else is queued.
    assert!(worker.recv_timeout(Duration::from_millis(300)).is_none());
    assert!(wakes.load(Ordering::SeqCst) >= 2, "wake called per event");
}

#[test]
fn painting_fast_renders_far_fewer_frames_and_always_the_last() {
    runtime();
    let package = fixture_packages().remove(0);
    let worker = InferenceWorker::spawn(
        vec![package.clone()],
        ProviderPreference::Cpu,
        Precision::Float,
    );
    collect(&worker, |e| matches!(e, WorkerEvent::ModelLoaded { .. }));

    // A simulated stroke: 200 brush samples, one request after each (as a UI painting live would).
    let mut map = sample_layout(&package);
    let total = 200u64;
    let start = Instant::now();
    for g in 0..total {
        let x = g as f32 % map.width() as f32;
        paint_stroke(&mut map, (x, 10.0), (x + 1.0, 12.0), 3.0, 2);
        worker.submit(request(&package, &Arc::new(map.clone()), g));
    }
    let submit_time = start.elapsed();
    let events = collect(
        &worker,
        |e| matches!(e, WorkerEvent::Rendered { generation, .. } if *generation == total - 1),
    );
    let gens: Vec<u64> = rendered(&events).into_iter().map(|(_, g)| g).collect();
    assert_eq!(
        gens.last(),
        Some(&(total - 1)),
        "the last edit is always rendered"
    );
    assert!(
        gens.windows(2).all(|w| w[0] < w[1]),
        "never an older frame after a newer one: {gens:?}"
    );
    assert!(
        (gens.len() as u64) < total / 4,
        "{} renders for {total} requests (submitting took {submit_time:?})",
        gens.len()
    );
}

#[test]
fn every_model_gets_its_own_slot_and_unknown_models_fail_cleanly() {
    runtime();
    let packages = fixture_packages();
    let worker =
        InferenceWorker::spawn(packages.clone(), ProviderPreference::Cpu, Precision::Float);
    let labels = Arc::new(sample_layout(&packages[0]));
    for p in &packages {
        for g in 0..5 {
            worker.submit(request(p, &labels, g));
        }
    }
    worker.submit(RenderRequest {
        model_id: "no-such-model".into(),
        labels: Arc::clone(&labels),
        seed: 0,
        generation: 9,
    });
    let mut remaining: Vec<String> = packages.iter().map(|p| p.meta.id.clone()).collect();
    let mut failed = None;
    let events = collect(&worker, |e| {
        match e {
            WorkerEvent::Rendered {
                model_id,
                generation,
                ..
            } => {
                assert_eq!(*generation, 4);
                remaining.retain(|id| id != model_id);
            }
            WorkerEvent::RenderFailed {
                model_id, error, ..
            } => {
                assert_eq!(model_id, "no-such-model");
                failed = Some(error.clone());
            }
            _ => {}
        }
        remaining.is_empty() && failed.is_some()
    });
    let loaded = events
        .iter()
        .filter(|e| matches!(e, WorkerEvent::ModelLoaded { .. }))
        .count();
    assert_eq!(loaded, packages.len());
    let msg = failed.unwrap_or_default();
    assert!(
        msg.contains("no-such-model") && msg.contains("not loaded"),
        "{msg}"
    );
}

#[test]
fn broken_package_added_later_reports_failure_and_others_keep_working() {
    runtime();
    let package = fixture_packages().remove(0);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("broken");
    common::copy_package(&package.dir, &dir);
    std::fs::write(dir.join("model.onnx"), b"corrupt").expect("write");
    let mut broken = package.clone();
    broken.dir = dir;
    broken.meta.id = "broken".into();

    let worker = InferenceWorker::spawn(
        vec![package.clone()],
        ProviderPreference::Cpu,
        Precision::Float,
    );
    worker.add_package(broken, Precision::Float);
    let events = collect(&worker, |e| matches!(e, WorkerEvent::ModelFailed { .. }));
    match events.last() {
        Some(WorkerEvent::ModelFailed { model_id, error }) => {
            assert_eq!(model_id, "broken");
            assert!(error.contains("broken/model.onnx"), "{error}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let labels = Arc::new(sample_layout(&package));
    worker.submit(RenderRequest {
        model_id: "broken".into(),
        labels: Arc::clone(&labels),
        seed: 0,
        generation: 1,
    });
    worker.submit(request(&package, &labels, 2));
    let mut saw_failure = false;
    collect(&worker, |e| match e {
        WorkerEvent::RenderFailed {
            model_id, error, ..
        } => {
            assert_eq!(model_id, "broken");
            assert!(error.contains("unavailable"), "{error}");
            saw_failure = true;
            false
        }
        WorkerEvent::Rendered { generation, .. } => *generation == 2,
        _ => false,
    });
    assert!(saw_failure);
    assert!(worker.is_running());
}
