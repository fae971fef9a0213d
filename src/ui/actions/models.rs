//! Which models are on screen, and keeping their images up to date: the active model (its
//! classes become the palette), the compared ones, newly trained and rescanned packages, the
//! worker's events and the renders sent to it.

use std::path::Path;
use std::time::Duration;

use crate::models::Precision;
use crate::ui::resources::{ModelStyle, Resources, choose_active};
use crate::ui::state::{AppState, MAX_COMPARE, View};

/// During a stroke, renders go out at most this often (the worker drops stale ones anyway).
const LIVE_RENDER_INTERVAL: Duration = Duration::from_millis(40);

/// Makes `id` the model the canvas paints for: its classes become the palette and the layout is
/// brought to its size (one undo step) when that differs.
pub fn set_active_model(state: &mut AppState, res: &mut Resources, id: &str) {
    if !res.models.is_usable(id) {
        return;
    }
    let Some(meta) = res.models.package(id).map(|p| p.meta.clone()) else {
        return;
    };
    let doc = &mut res.doc;
    if doc.classes != meta.classes || doc.dontcare != meta.dontcare {
        doc.set_classes(meta.classes.clone(), meta.dontcare);
    }
    if (doc.labels.width(), doc.labels.height()) != (meta.width, meta.height) {
        let resized = doc.labels.resized_nearest(meta.width, meta.height);
        doc.replace_labels(resized);
    }
    if state.active_class as usize >= doc.classes.len() {
        state.active_class = 0;
    }
    state.active_model = Some(id.to_string());
}

/// Adds a model to the compare view (when usable and there is room), or removes it.
pub fn toggle_compare(state: &mut AppState, res: &Resources, id: String) {
    if let Some(i) = state.compare_models.iter().position(|m| *m == id) {
        state.compare_models.remove(i);
    } else if state.compare_models.len() < MAX_COMPARE && res.models.is_usable(&id) {
        state.compare_models.push(id);
    }
}

/// When the active model cannot run (its session failed), the first usable one takes over.
pub fn keep_active_model_usable(state: &mut AppState, res: &mut Resources) {
    let generators = res.models.generator_ids();
    let next = choose_active(state.active_model.as_deref(), &generators, |id| {
        res.models.is_usable(id)
    });
    if next == state.active_model {
        return;
    }
    match next {
        Some(id) => set_active_model(state, res, &id),
        None => state.active_model = None,
    }
}

/// Runs the int8 variants of the generators that have one (`Auto`) or always the float graphs:
/// the sessions are loaded again; the painting, the style and the images on screen stay until
/// the new sessions render them again.
pub fn set_precision(state: &mut AppState, res: &mut Resources, precision: Precision) {
    state.precision = precision;
    if res.models.set_precision(precision) {
        res.messages.show_notice(match precision {
            Precision::Auto => "Loading the int8 variants of the models that have one",
            Precision::Float => "Loading the float models",
        });
    }
}

/// Scans the model folders again and says what was added.
pub fn rescan(res: &mut Resources) {
    let added = res.models.rescan();
    if added.is_empty() {
        res.messages.show_notice("No new models found");
    } else {
        res.messages
            .show_notice(format!("Added {}", added.join(", ")));
    }
}

/// A training run exported a package: it joins the model list, and the compare view opens with
/// the model it started from (else the active one) beside it.
pub fn model_trained(state: &mut AppState, res: &mut Resources, dir: &Path, base: Option<String>) {
    let id = match res.models.add_package(dir) {
        Ok(id) => id,
        Err(e) => {
            res.messages
                .show_error("The trained model cannot be used", e);
            return;
        }
    };
    let reference = base
        .filter(|b| res.models.is_usable(b))
        .or_else(|| state.active_model.clone().filter(|a| *a != id));
    let mut compare: Vec<String> = reference.into_iter().collect();
    compare.push(id.clone());
    state.compare_models = compare;
    state.view = View::Compare;
    if state.active_model.is_none() {
        set_active_model(state, res, &id);
    }
    res.messages.show_notice(format!(
        "Trained model {id} added; comparing it with its base"
    ));
}

/// Applies the worker's events; returns true when something changed on screen. Without the
/// worker's thread no image would ever arrive: that is said instead of waiting forever.
pub fn poll_worker(state: &mut AppState, res: &mut Resources) -> bool {
    let mut changed = false;
    while let Some(event) = res.models.try_recv() {
        changed = true;
        res.models.handle_event(event);
    }
    let reason = "the inference thread stopped; save your layout and restart SceneBrush \
                  (details are in the log with RUST_LOG=info)";
    if res.models.reap_stopped_worker(reason) {
        res.messages.show_error("Inference stopped", reason);
        changed = true;
    }
    if changed {
        keep_active_model_usable(state, res);
    }
    changed
}

/// Sends the current layout and style to every model on screen whose image is out of date.
/// While a stroke is in progress, only to models that are idle (live preview); the final state
/// always goes out when the stroke ends.
pub fn schedule_renders(state: &AppState, res: &mut Resources) {
    let stroking = res.doc.stroke.is_some();
    for id in state.visible_models() {
        let style = res.model_style(state, &id);
        if style == ModelStyle::Waiting {
            // Its style encoder is taking the photo's style: render once it has.
            continue;
        }
        let key = res.render_key_for(state, &id);
        let Some(generator) = res.models.get(&id) else {
            continue;
        };
        if generator.load.is_failed() || generator.submitted == Some(key) {
            continue;
        }
        if stroking
            && (!state.live_preview
                || generator.is_busy()
                || generator
                    .submitted_at
                    .is_some_and(|t| t.elapsed() < LIVE_RENDER_INTERVAL))
        {
            continue;
        }
        res.models
            .submit(&id, key, &res.doc.labels, style.to_style());
    }
}
