//! Styles: the seed, a photo's style (each model's style encoder on a helper thread), kept
//! styles (the style strip: save, apply, delete, import and export style files) and their
//! previews, rendered only while the worker has nothing else to do.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{TryRecvError, channel};

use crate::inference::{ProviderPreference, StyleEncoder, read_photo};
use crate::models::ModelPackage;
use crate::style::{SavedStyle, Style, StyleError, is_style_file};
use crate::ui::resources::{
    LoadState, OverwriteQuestion, Resources, StyleJob, StyleJobResult, fingerprint,
    saved_style_unfit,
};
use crate::ui::state::{AppState, SaveKind, StyleChoice, View, draw_seed};

use super::files::file_name;

/// Longest name a kept style gets (style files refuse longer ones).
const MAX_NAME_CHARS: usize = 200;

/// Makes `choice` the style: renders with it start over.
pub fn set_choice(state: &mut AppState, res: &mut Resources, choice: StyleChoice) {
    res.styles.changed(choice.photo());
    state.style = choice;
}

/// "New style": a new seed (unless locked), and back to the seed's noise.
pub fn new_style(state: &mut AppState, res: &mut Resources) {
    if !state.seed_locked {
        state.seed = draw_seed(state.seed);
    }
    if state.style != StyleChoice::Seed {
        set_choice(state, res, StyleChoice::Seed);
    }
}

/// A typed seed, and back to the seed's noise.
pub fn set_seed(state: &mut AppState, res: &mut Resources, seed: u64) {
    state.seed = seed;
    if state.style != StyleChoice::Seed {
        set_choice(state, res, StyleChoice::Seed);
    }
}

/// "Style from photo…" with a file: the photo's style for every model on screen with a style
/// encoder, taken on a helper thread; the style changes when it is done. A style file is
/// imported (and used when it fits the active model).
pub fn style_from_photo(path: &Path, state: &mut AppState, res: &mut Resources) {
    let title = format!("Could not take the style of {}", file_name(path));
    if path.is_dir() {
        let e = crate::io::IoError::Folder(path.to_path_buf());
        return res.messages.show_error(title, e.to_string());
    }
    if path.is_file() && is_style_file(path) {
        if let Some(index) = import_style(path, state, res)
            && res.fits_active(state, index)
        {
            apply_style(index, state, res);
        }
        return;
    }
    if let Some(reason) = res.no_encoder_reason(state) {
        return res.messages.show_error(title, reason);
    }
    if let Some(job) = &res.styles.job {
        let busy = job.photo.display().to_string();
        return res.messages.show_notice(format!(
            "Still taking the style of {busy}; try again in a moment"
        ));
    }
    let models = res.encoder_models(state);
    start_style_job(path, models, true, false, res);
}

/// Starts taking the style of `photo` for `models` on a helper thread.
pub fn start_style_job(
    photo: &Path,
    models: Vec<String>,
    apply: bool,
    quiet: bool,
    res: &mut Resources,
) {
    let packages: Vec<ModelPackage> = models
        .iter()
        .filter_map(|id| res.models.package(id).cloned())
        .collect();
    let (tx, rx) = channel();
    let pref = res.models.provider;
    let job_photo = photo.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("style-from-photo".into())
        .spawn(move || {
            let _ = tx.send(encode(&job_photo, &packages, pref));
        });
    match spawned {
        Ok(_) => {
            res.styles.job = Some(StyleJob {
                photo: photo.to_path_buf(),
                models,
                apply,
                quiet,
                revision: res.styles.revision,
                rx,
            });
            if apply && !quiet {
                res.messages
                    .show_notice(format!("Taking the style of {}…", file_name(photo)));
            }
        }
        Err(e) => {
            let reason = format!("cannot start the style thread: {e}");
            if apply {
                res.messages.show_error(
                    format!("Could not take the style of {}", file_name(photo)),
                    reason,
                );
            } else {
                for id in models {
                    res.styles.vectors.insert(id, Err(reason.clone()));
                }
            }
        }
    }
}

/// The photo's style for each package (on the helper thread).
fn encode(photo: &Path, packages: &[ModelPackage], pref: ProviderPreference) -> StyleJobResult {
    let image = read_photo(photo).map_err(|e| e.to_string())?;
    let name = photo.file_name().map(|n| n.to_string_lossy().into_owned());
    Ok(packages
        .iter()
        .map(|package| {
            let vector = StyleEncoder::load(package, pref)
                .and_then(|mut encoder| encoder.style_from_photo(&image, name.clone()))
                .map_err(|e| e.to_string());
            (package.meta.id.clone(), vector)
        })
        .collect())
}

/// Takes in a finished style job. True when something changed.
pub fn poll_style_job(state: &mut AppState, res: &mut Resources) -> bool {
    let Some(job) = &res.styles.job else {
        return false;
    };
    let result = match job.rx.try_recv() {
        Err(TryRecvError::Empty) => return false,
        Ok(result) => result,
        Err(TryRecvError::Disconnected) => Err("the style thread stopped".to_string()),
    };
    let Some(job) = res.styles.job.take() else {
        return false;
    };
    let name = file_name(&job.photo);
    if job.apply {
        let title = format!("Could not take the style of {name}");
        let results = match result {
            Ok(results) => results,
            Err(e) => {
                res.messages.show_error(title, e);
                return true;
            }
        };
        if results.iter().all(|(_, r)| r.is_err()) {
            let reasons: Vec<String> = results
                .iter()
                .filter_map(|(id, r)| r.as_ref().err().map(|e| format!("{id}: {e}")))
                .collect();
            res.messages.show_error(
                title,
                format!("{}\n\nThe style is unchanged.", reasons.join("\n")),
            );
            return true;
        }
        set_choice(state, res, StyleChoice::Photo(job.photo.clone()));
        let failed: Vec<String> = results
            .iter()
            .filter(|(_, r)| r.is_err())
            .map(|(id, _)| id.clone())
            .collect();
        res.styles.vectors.extend(results);
        if !failed.is_empty() {
            res.messages.show_notice(format!(
                "Style of {name}; the style encoder of {} failed, so it uses the seed (the \
                 Models window has the reason)",
                failed.join(", ")
            ));
        } else if !job.quiet {
            res.messages.show_notice(format!("Style of {name}"));
        }
        return true;
    }
    // Filling in models that came on screen: only for the photo still chosen.
    if job.revision != res.styles.revision || res.styles.photo.as_deref() != Some(&job.photo) {
        return false;
    }
    match result {
        Ok(results) => res.styles.vectors.extend(results),
        Err(e) => {
            res.messages.show_notice(format!(
                "The style photo {name} cannot be read ({e}); those models use the seed"
            ));
            for id in job.models {
                res.styles.vectors.insert(id, Err(e.clone()));
            }
        }
    }
    true
}

/// While a photo's style is chosen, models that come on screen (compare view, another active
/// model) take it too.
pub fn schedule_style_jobs(state: &AppState, res: &mut Resources) {
    if res.styles.job.is_some() {
        return;
    }
    let Some(photo) = state.style.photo().map(Path::to_path_buf) else {
        return;
    };
    if res.styles.photo.as_deref() != Some(&photo) {
        res.styles.changed(Some(&photo));
    }
    let missing: Vec<String> = res
        .encoder_models(state)
        .into_iter()
        .filter(|id| !res.styles.vectors.contains_key(id))
        .collect();
    if !missing.is_empty() {
        start_style_job(&photo, missing, false, true, res);
    }
}

/// The style to keep when the user saves the current one, or why there is none.
fn current_style(state: &AppState, res: &Resources) -> Result<Style, String> {
    match &state.style {
        StyleChoice::Seed => Ok(Style::Seed(state.seed)),
        StyleChoice::Saved(saved) => Ok(saved.style.clone()),
        StyleChoice::Photo(photo) => {
            let mut candidates = state.active_model.iter().chain(&state.compare_models);
            let vector = candidates.find_map(|id| match res.styles.vectors.get(id) {
                Some(Ok(v)) if state.view != View::Compare || state.compare_models.contains(id) => {
                    Some(v.clone())
                }
                _ => None,
            });
            vector.map(Style::Vector).ok_or_else(|| {
                format!(
                    "No model on screen has taken the style of {} yet (a model needs a style \
                     encoder for it); wait for its image, or save a seed instead (New style)",
                    file_name(photo)
                )
            })
        }
    }
}

/// A name not used by another kept style: "name", "name 2", "name 3"...
fn unique_name(state: &AppState, name: &str) -> String {
    let taken = |n: &str| state.saved_styles.iter().any(|s| s.name == n);
    if !taken(name) {
        return name.to_string();
    }
    (2..)
        .map(|i| format!("{name} {i}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| name.to_string())
}

/// "Save style…": keeps the current style in the strip under `name`.
pub fn save_style(name: &str, state: &mut AppState, res: &mut Resources) {
    let style = match current_style(state, res) {
        Ok(style) => style,
        Err(reason) => return res.messages.show_error("Nothing to keep yet", reason),
    };
    let trimmed: String = name.trim().chars().take(MAX_NAME_CHARS).collect();
    let name = if trimmed.is_empty() {
        style.describe()
    } else {
        trimmed
    };
    let name = unique_name(state, &name);
    res.messages
        .show_notice(format!("Kept the style as \"{name}\" (in the style strip)"));
    state.saved_styles.push(SavedStyle::new(name, style));
}

/// Makes the kept style at `index` the current one; a style for another model is refused with
/// why.
pub fn apply_style(index: usize, state: &mut AppState, res: &mut Resources) {
    let Some(saved) = state.saved_styles.get(index).cloned() else {
        return;
    };
    if let Some(p) = state
        .active_model
        .as_deref()
        .and_then(|id| res.models.package(id))
        && let Err(e) = saved.check_for(&p.meta, None)
    {
        return res.messages.show_error(
            format!("Cannot use the style \"{}\"", saved.name),
            e.to_string(),
        );
    }
    let (choice, seed) = StyleChoice::from_saved(&saved);
    if let Some(seed) = seed {
        state.seed = seed;
    }
    if state.style != choice || seed.is_some() {
        set_choice(state, res, choice);
    }
    res.messages
        .show_notice(format!("Style \"{}\"", saved.name));
}

/// Removes the kept style at `index`.
pub fn delete_style(index: usize, state: &mut AppState, res: &mut Resources) {
    if index < state.saved_styles.len() {
        let saved = state.saved_styles.remove(index);
        res.messages
            .show_notice(format!("Removed the style \"{}\"", saved.name));
    }
}

/// Adds a style file to the strip. Returns its index, or `None` (with a message naming the
/// file) when it cannot be read or no model here can use it.
pub fn import_style(path: &Path, state: &mut AppState, res: &mut Resources) -> Option<usize> {
    let title = format!("Could not import {}", file_name(path));
    let saved = match SavedStyle::load(path) {
        Ok(saved) => saved,
        Err(e) => {
            res.messages.show_error(title, e.to_string());
            return None;
        }
    };
    let mut note = String::new();
    if let Style::Vector(v) = &saved.style {
        let Some(package) = res.models.package(&v.model_id) else {
            let dirs: Vec<String> = res
                .models
                .dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            res.messages.show_error(
                title,
                format!(
                    "{} holds a style made for the model {}, which is not installed here (model \
                     folders: {}). A photo's style only fits the model whose style encoder took \
                     it: add that model, or take the style from the photo again with one of \
                     yours (Style from photo…)",
                    path.display(),
                    v.model_id,
                    dirs.join(", ")
                ),
            );
            return None;
        };
        if let Err(e) = saved.check_for(&package.meta, Some(path)) {
            res.messages.show_error(title, e.to_string());
            return None;
        }
        if state.active_model.as_deref() != Some(v.model_id.as_str()) {
            note = format!(
                ": it was made for the model {}, so it applies when {} is the active model",
                v.model_id, v.model_id
            );
        }
    }
    state.last_open_dir = path.parent().map(Path::to_path_buf);
    let same = fingerprint(&saved.style);
    if let Some(index) = state
        .saved_styles
        .iter()
        .position(|s| s.name == saved.name && fingerprint(&s.style) == same)
    {
        res.messages.show_notice(format!(
            "{} is already in the style strip (\"{}\"){note}",
            file_name(path),
            saved.name
        ));
        return Some(index);
    }
    let name = unique_name(state, &saved.name);
    res.messages.show_notice(format!(
        "Imported the style \"{name}\" from {}{note}",
        file_name(path)
    ));
    state.saved_styles.push(SavedStyle::new(name, saved.style));
    Some(state.saved_styles.len() - 1)
}

/// Writes the kept style at `index` as a style file; an existing file is only replaced with
/// `overwrite` (otherwise the user is asked).
pub fn export_style(
    index: usize,
    path: PathBuf,
    overwrite: bool,
    state: &mut AppState,
    res: &mut Resources,
) {
    let kind = SaveKind::Style(index);
    let Some(saved) = state.saved_styles.get(index) else {
        return res.messages.show_error(
            kind.title(),
            "That style is no longer in the style strip; nothing was written",
        );
    };
    match saved.save(&path, overwrite) {
        Ok(()) => {
            state.last_save_dir = path.parent().map(Path::to_path_buf);
            res.messages.show_notice(format!(
                "Exported the style \"{}\" to {}",
                saved.name,
                path.display()
            ));
        }
        Err(StyleError::Write(crate::io::IoError::Exists(path))) => {
            res.overwrite = Some(OverwriteQuestion { kind, path });
        }
        Err(e) => res
            .messages
            .show_error(format!("{} failed", kind.title()), e.to_string()),
    }
}

/// Renders one kept style's preview of the current layout with the active model, when the
/// worker has nothing else to do for it: the image on screen is up to date, no stroke, no
/// style being taken. One at a time, so the next edit waits for one preview at most.
pub fn schedule_previews(state: &AppState, res: &mut Resources) {
    if state.view != View::Paint || res.doc.stroke.is_some() || res.styles.job.is_some() {
        return;
    }
    let Some(id) = state.active_model.clone() else {
        return;
    };
    let Some(meta) = res.models.package(&id).map(|p| p.meta.clone()) else {
        return;
    };
    let key = res.render_key_for(state, &id);
    let Some(generator) = res.models.get(&id) else {
        return;
    };
    let ready = matches!(generator.load, LoadState::Loaded { .. })
        && generator.is_idle()
        && generator.result.as_ref().is_some_and(|r| r.key == key);
    if !ready {
        return;
    }
    let version = res.doc.version;
    let next = state.saved_styles.iter().find_map(|saved| {
        if saved_style_unfit(saved, &id, meta.z_dim).is_some() {
            return None;
        }
        let fp = fingerprint(&saved.style);
        let done = generator
            .previews
            .get(&fp)
            .is_some_and(|p| p.version == version);
        (!done).then(|| (fp, saved.style.clone()))
    });
    if let Some((fp, style)) = next {
        let style = match style {
            Style::Vector(v) => Style::Vector(crate::style::StyleVector {
                thumbnail: None,
                ..v
            }),
            seed => seed,
        };
        res.models
            .submit_preview(&id, fp, version, &res.doc.labels, style);
    }
}
