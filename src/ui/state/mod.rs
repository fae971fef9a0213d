//! The state layer: what the user chose ([`AppState`], serialisable, persisted by eframe), the
//! canvas's pan and zoom on screen ([`CanvasViewport`], not persisted), and what the views ask
//! for ([`Command`]). Nothing here refers to the other layers of the GUI.
mod app_state;
mod command;
mod style;

pub use app_state::{
    AppState, BRUSH_SIZES, CanvasViewport, MAX_COMPARE, MAX_DRAWN_SEED, View, ZOOM_RANGE, draw_seed,
};
pub use command::{Command, MapPos, SaveKind, Stroke, TrainCommand, TrainPick};
pub use style::{EditView, StyleChoice};
