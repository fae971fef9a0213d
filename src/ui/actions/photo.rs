//! "Open photo as layout" (and the first step of "Edit a photo…"): a segmenter package turns a
//! photo into a label map on a helper thread; the result replaces the canvas as one undo step.

use std::path::Path;
use std::sync::mpsc::{TryRecvError, channel};

use crate::canvas::LabelMap;
use crate::inference::{ProviderPreference, Segmenter, read_photo};
use crate::models::{ClassInfo, ModelMeta, ModelPackage};
use crate::ui::resources::{PhotoJob, PhotoPurpose, Resources, SegmentedPhoto};
use crate::ui::state::AppState;

use super::edit::photo_segmented;
use super::files::file_name;

/// Why the segmenter's labels cannot be painted with the canvas's classes, if so.
pub fn class_mismatch(
    segmenter: &ModelMeta,
    classes: &[ClassInfo],
    dontcare: Option<u8>,
    painting_for: &str,
) -> Option<String> {
    let names = |list: &[ClassInfo]| {
        let mut sorted = list.to_vec();
        sorted.sort_by_key(|c| c.id);
        sorted
            .iter()
            .map(|c| format!("{} {}", c.id, c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let same = segmenter.classes.len() == classes.len()
        && segmenter.classes.iter().all(|c| {
            classes
                .iter()
                .any(|d| d.id == c.id && d.name.eq_ignore_ascii_case(&c.name))
        })
        && segmenter.dontcare == dontcare;
    if same {
        return None;
    }
    let differing: Vec<String> = segmenter
        .classes
        .iter()
        .filter_map(|c| {
            let other = classes.iter().find(|d| d.id == c.id);
            match other {
                Some(d) if d.name.eq_ignore_ascii_case(&c.name) => None,
                Some(d) => Some(format!("id {} is {} there, {} here", c.id, c.name, d.name)),
                None => Some(format!("id {} ({}) does not exist here", c.id, c.name)),
            }
        })
        .collect();
    let detail = if differing.is_empty() {
        format!(
            "the segmenter has {} classes (don't care {:?}), {painting_for} {} (don't care {:?})",
            segmenter.classes.len(),
            segmenter.dontcare,
            classes.len(),
            dontcare
        )
    } else {
        differing.join("; ")
    };
    Some(format!(
        "The segmenter {} labels photos with the classes [{}], but {painting_for} paints with \
         [{}] ({detail}). Choose a generator with the segmenter's classes (for example a CamVid \
         model) and open the photo again.",
        segmenter.id,
        names(&segmenter.classes),
        names(classes),
    ))
}

/// Starts segmenting `photo` with the default segmenter, or explains why it cannot.
pub fn start_photo_job(path: &Path, purpose: PhotoPurpose, state: &AppState, res: &mut Resources) {
    if res.photo_job.is_some() {
        return;
    }
    let Some(package) = res.models.registry.default_segmenter().cloned() else {
        let dirs: Vec<String> = res
            .models
            .dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        res.messages.show_error(
            "No segmenter model",
            format!(
                "Opening a photo as a layout needs a segmenter package (kind \"segmenter\"), such \
                 as models/camvid-segmenter; none was found in {}.",
                dirs.join(", ")
            ),
        );
        return;
    };
    let painting_for = state.active_model.as_deref().map_or_else(
        || "the canvas".to_string(),
        |id| format!("the active model {id}"),
    );
    if let Some(message) = class_mismatch(
        &package.meta,
        &res.doc.classes,
        res.doc.dontcare,
        &painting_for,
    ) {
        res.messages
            .show_error("The segmenter's classes differ", message);
        return;
    }
    if let Err(reason) = &res.models.runtime_info {
        let reason = reason.clone();
        res.messages
            .show_error("ONNX Runtime is not available", reason);
        return;
    }
    let (tx, rx) = channel();
    let photo = path.to_path_buf();
    let pref = res.models.provider;
    let job_package = package.clone();
    let spawned = std::thread::Builder::new()
        .name("segment-photo".into())
        .spawn(move || {
            let _ = tx.send(segment(&job_package, &photo, pref, purpose));
        });
    match spawned {
        Ok(_) => {
            res.photo_job = Some(PhotoJob {
                photo: path.to_path_buf(),
                segmenter: package.meta.id.clone(),
                purpose,
                rx,
            });
            res.messages.show_notice(format!(
                "Segmenting {} with {}…",
                path.display(),
                package.meta.name
            ));
        }
        Err(e) => res
            .messages
            .show_error("Cannot segment the photo", e.to_string()),
    }
}

fn segment(
    package: &ModelPackage,
    photo: &Path,
    pref: ProviderPreference,
    purpose: PhotoPurpose,
) -> Result<SegmentedPhoto, String> {
    let image = read_photo(photo).map_err(|e| e.to_string())?;
    let mut segmenter = Segmenter::load(package, pref).map_err(|e| e.to_string())?;
    let labels = segmenter.segment(&image).map_err(|e| e.to_string())?;
    Ok(SegmentedPhoto {
        labels,
        photo: (purpose == PhotoPurpose::Edit).then_some(image),
    })
}

/// Puts a finished segmentation into the canvas (one undo step). True when something changed.
pub fn poll_photo_job(state: &mut AppState, res: &mut Resources) -> bool {
    let Some(job) = &res.photo_job else {
        return false;
    };
    let result = match job.rx.try_recv() {
        Err(TryRecvError::Empty) => return false,
        Ok(result) => result,
        Err(TryRecvError::Disconnected) => Err("the segmentation thread stopped".into()),
    };
    let Some(job) = res.photo_job.take() else {
        return false;
    };
    let title = || match job.purpose {
        PhotoPurpose::Layout => format!("Could not segment {}", file_name(&job.photo)),
        PhotoPurpose::Edit => format!("Cannot edit {}", file_name(&job.photo)),
    };
    let segmented = match result {
        Ok(segmented) => segmented,
        Err(e) => {
            res.messages.show_error(title(), e);
            return true;
        }
    };
    if res.doc.stroke.is_some() {
        res.messages.show_error(
            title(),
            "A brush stroke was in progress; open the photo again.",
        );
        return true;
    }
    let (w, h) = (res.doc.labels.width(), res.doc.labels.height());
    let before = res.doc.labels.clone();
    res.doc
        .replace_labels(fit_to_canvas(&segmented.labels, w, h));
    res.doc.source = None;
    state.last_open_dir = job.photo.parent().map(Path::to_path_buf);
    res.messages.error = None;
    if job.purpose == PhotoPurpose::Edit {
        match segmented.photo {
            Some(photo) => photo_segmented(&job.photo, photo, before, state, res),
            None => res
                .messages
                .show_error(title(), "the segmentation returned no photo; try again"),
        }
        return true;
    }
    let stopped = res.end_edit();
    res.messages.show_notice(format!(
        "Layout from {} by {} (Undo restores the painting){stopped}",
        file_name(&job.photo),
        job.segmenter
    ));
    true
}

/// The segmenter's map at the canvas size: centre-cropped to the canvas's aspect ratio when the
/// two differ, then scaled with nearest neighbour.
pub fn fit_to_canvas(map: &LabelMap, width: u32, height: u32) -> LabelMap {
    let (mw, mh) = (map.width(), map.height());
    let cropped = if mw == 0 || mh == 0 || width == 0 || height == 0 {
        None
    } else {
        let want = f64::from(width) / f64::from(height);
        let got = f64::from(mw) / f64::from(mh);
        let (cw, ch) = if got > want * 1.01 {
            (((f64::from(mh) * want).round() as u32).clamp(1, mw), mh)
        } else if got < want / 1.01 {
            (mw, ((f64::from(mw) / want).round() as u32).clamp(1, mh))
        } else {
            (mw, mh)
        };
        ((cw, ch) != (mw, mh)).then(|| {
            let (x0, y0) = ((mw - cw) / 2, (mh - ch) / 2);
            let mut data = Vec::with_capacity((cw * ch) as usize);
            for y in y0..y0 + ch {
                let row = (y * mw) as usize;
                data.extend_from_slice(&map.data()[row + x0 as usize..row + (x0 + cw) as usize]);
            }
            LabelMap::from_raw(cw, ch, data)
        })
    };
    match cropped.flatten() {
        Some(c) => c.resized_nearest(width, height),
        None => map.resized_nearest(width, height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmenter_maps_fit_any_canvas() {
        let mut map = LabelMap::new(8, 4, 0);
        for y in 0..4 {
            for x in 2..6 {
                map.set(x, y, 5);
            }
        }
        // A square canvas keeps the middle of a 2:1 map.
        let fit = fit_to_canvas(&map, 8, 8);
        assert_eq!((fit.width(), fit.height()), (8, 8));
        assert!(fit.data().iter().all(|&v| v == 5));
        // The same aspect only scales.
        let fit = fit_to_canvas(&map, 16, 8);
        assert_eq!(fit.get(0, 0), Some(0));
        assert_eq!(fit.get(8, 4), Some(5));
    }

    #[test]
    fn class_mismatch_names_the_classes() {
        let table = crate::models::camvid();
        let (classes, dontcare) = (table.classes.clone(), table.dontcare);
        let json = crate::models::meta_tests_json();
        let meta = crate::models::ModelMeta::from_json(&json).expect("meta");
        let mut seg = meta.clone();
        seg.id = "seg".into();
        seg.classes = classes.clone();
        seg.dontcare = dontcare;
        assert_eq!(
            class_mismatch(&seg, &classes, dontcare, "the active model g"),
            None
        );
        let mut other = classes.clone();
        other[3].name = "Water".into();
        other.pop();
        let message = class_mismatch(&seg, &other, None, "the active model g").expect("differs");
        assert!(message.contains("the active model g paints"), "{message}");
        assert!(
            message.contains("id 3 is Road there, Water here"),
            "{message}"
        );
        assert!(
            message.contains("id 11 (Unlabelled) does not exist here"),
            "{message}"
        );
        assert!(message.contains("0 Sky, 1 Building"), "{message}");
    }
}
