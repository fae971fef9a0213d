//! The canvas's zoom and pan.

use crate::ui::state::{AppState, CanvasViewport, ZOOM_RANGE};

fn clamp_zoom(zoom: f32) -> f32 {
    zoom.clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end())
}

/// A zoom and pan chosen on the canvas (wheel, drag): fitting stops.
pub fn set_view(state: &mut AppState, viewport: &mut CanvasViewport, zoom: f32, pan: egui::Vec2) {
    state.zoom_fit = false;
    state.zoom = clamp_zoom(zoom);
    viewport.pan = pan;
}

/// Multiplies the zoom on screen (the fit zoom when fitting), keeping the canvas centre.
pub fn zoom_by(state: &mut AppState, viewport: &mut CanvasViewport, factor: f32) {
    let base = if viewport.shown_zoom > 0.0 {
        viewport.shown_zoom
    } else {
        state.zoom
    };
    let zoom = clamp_zoom(base * factor);
    if !state.zoom_fit {
        viewport.pan *= zoom / base;
    } else {
        viewport.pan = egui::Vec2::ZERO;
    }
    state.zoom_fit = false;
    state.zoom = zoom;
}

pub fn zoom_fit(state: &mut AppState, viewport: &mut CanvasViewport) {
    state.zoom_fit = true;
    viewport.pan = egui::Vec2::ZERO;
}

/// One label pixel per screen point.
pub fn zoom_actual(state: &mut AppState, viewport: &mut CanvasViewport) {
    state.zoom_fit = false;
    state.zoom = 1.0;
    viewport.pan = egui::Vec2::ZERO;
}
