//! Painting: the tools' gestures, undo and redo, clearing, the brush and the class. Each edit is
//! one undo step (a stroke from press to release).

use crate::canvas::{
    LabelMap, Tool, draw_line, fill_rect, flood_fill, paint_disc, paint_stroke, pick_class,
};
use crate::ui::resources::{Document, default_scene};
use crate::ui::state::{AppState, BRUSH_SIZES, MapPos, Stroke};

/// The brush radius and the class the current tool paints.
fn brush(state: &AppState, doc: &Document) -> (f32, u8) {
    let class = if state.tool == Tool::Eraser {
        doc.erase_class()
    } else {
        state.active_class
    };
    (state.brush_size * 0.5, class)
}

/// Brush or eraser pressed, moved or released.
pub fn stroke(state: &AppState, doc: &mut Document, stroke: Stroke) {
    let (radius, class) = brush(state, doc);
    match stroke {
        Stroke::Begin(p) => {
            doc.history.record(&doc.labels);
            let dirty = paint_disc(&mut doc.labels, p.0, p.1, radius, class);
            doc.touched(dirty);
            doc.stroke = Some(p);
        }
        Stroke::To(p) => {
            if let Some(prev) = doc.stroke {
                let dirty = paint_stroke(&mut doc.labels, prev, p, radius, class);
                doc.touched(dirty);
                doc.stroke = Some(p);
            }
        }
        Stroke::End => {
            if doc.stroke.take().is_some() {
                doc.history.commit(&doc.labels);
            }
        }
    }
}

pub fn fill(state: &AppState, doc: &mut Document, p: MapPos) {
    let (_, class) = brush(state, doc);
    if p.0 >= 0.0 && p.1 >= 0.0 {
        doc.history.record(&doc.labels);
        let dirty = flood_fill(&mut doc.labels, p.0 as u32, p.1 as u32, class);
        doc.history.commit(&doc.labels);
        doc.touched(dirty);
    }
}

pub fn line(state: &AppState, doc: &mut Document, from: MapPos, to: MapPos) {
    let (radius, class) = brush(state, doc);
    doc.history.record(&doc.labels);
    let dirty = draw_line(&mut doc.labels, from, to, radius, class);
    doc.history.commit(&doc.labels);
    doc.touched(dirty);
}

pub fn rect(state: &AppState, doc: &mut Document, a: MapPos, b: MapPos) {
    let (_, class) = brush(state, doc);
    doc.history.record(&doc.labels);
    let dirty = fill_rect(&mut doc.labels, a, b, class);
    doc.history.commit(&doc.labels);
    doc.touched(dirty);
}

/// The eyedropper: the class under `p` becomes the active one.
pub fn pick(state: &mut AppState, doc: &Document, p: MapPos) {
    if let Some(id) = pick_class(&doc.labels, p.0, p.1) {
        state.active_class = id;
    }
}

/// Undo (`redo` false) or redo; not in the middle of a stroke.
pub fn undo(doc: &mut Document, redo: bool) {
    if doc.stroke.is_some() {
        return;
    }
    let changed = if redo {
        doc.history.redo(&mut doc.labels)
    } else {
        doc.history.undo(&mut doc.labels)
    };
    if changed {
        doc.replaced();
    }
}

/// Paints the whole canvas with the don't-care class.
pub fn clear(doc: &mut Document) {
    let (w, h) = (doc.labels.width(), doc.labels.height());
    let blank = LabelMap::new(w, h, doc.erase_class());
    doc.replace_labels(blank);
}

/// Replaces the canvas with the default scene.
pub fn new_scene(doc: &mut Document) {
    let (w, h) = (doc.labels.width(), doc.labels.height());
    let scene = default_scene(w, h, &doc.classes);
    doc.replace_labels(scene);
    doc.source = None;
}

/// Sets the brush diameter within [`BRUSH_SIZES`].
pub fn set_brush_size(state: &mut AppState, size: f32) {
    state.brush_size = size.clamp(*BRUSH_SIZES.start(), *BRUSH_SIZES.end());
}

/// One step bigger (+1) or smaller (-1): multiplicative steps feel even from 1 px to 96 px.
pub fn step_brush_size(state: &mut AppState, step: i32) {
    let factor = if step > 0 { 1.25 } else { 0.8 };
    let size = (state.brush_size * factor).round();
    let size = if size == state.brush_size {
        size + step.signum() as f32
    } else {
        size
    };
    set_brush_size(state, size);
}

/// Selects a class of the canvas (others are ignored).
pub fn select_class(state: &mut AppState, doc: &Document, id: u8) {
    if doc.classes.iter().any(|c| c.id == id) {
        state.active_class = id;
    }
}
