//! What the user chose, persisted between sessions by eframe. Everything that cannot be
//! serialised (sessions, the painting, jobs) is a runtime resource (`crate::ui::resources`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::canvas::Tool;
use crate::models::Precision;
use crate::style::SavedStyle;
use crate::training::TrainSettings;

use super::style::{EditView, StyleChoice, lenient, lenient_list};

/// Brush diameters the size controls allow, in label-map pixels.
pub const BRUSH_SIZES: std::ops::RangeInclusive<f32> = 1.0..=96.0;
/// Canvas zoom limits (screen points per label-map pixel).
pub const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.25..=32.0;
/// The compare view shows this many models at most.
pub const MAX_COMPARE: usize = 4;
/// Largest seed "New style" draws (small enough to read out and type back in).
pub const MAX_DRAWN_SEED: u64 = 999_999;

/// The app's modes, shown as tabs under the menu bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum View {
    /// Paint and see the active model's result.
    #[default]
    Paint,
    /// The same layout and seed through 2 to 4 models side by side.
    Compare,
    /// Fine-tune or train a generator with the bundled trainer and watch it learn.
    Train,
}

impl View {
    pub const ALL: [View; 3] = [View::Paint, View::Compare, View::Train];

    pub fn label(self) -> &'static str {
        match self {
            View::Paint => "Paint",
            View::Compare => "Compare",
            View::Train => "Train",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    pub view: View,
    pub tool: Tool,
    /// Brush and line diameter in label-map pixels.
    pub brush_size: f32,
    pub active_class: u8,
    /// Seed of the style noise z; the same for every model so results compare.
    pub seed: u64,
    /// When locked, "New style" keeps the seed.
    pub seed_locked: bool,
    /// What z is made of: the seed's noise, a photo's style, or a kept vector style.
    #[serde(deserialize_with = "lenient")]
    pub style: StyleChoice,
    /// The styles kept in the style strip, in the order they were saved.
    #[serde(deserialize_with = "lenient_list")]
    pub saved_styles: Vec<SavedStyle>,
    /// What the result shows while a photo is edited.
    #[serde(deserialize_with = "lenient")]
    pub edit_view: EditView,
    /// Id of the model the canvas paints for.
    pub active_model: Option<String>,
    /// Ids of the models in the compare view, in display order.
    pub compare_models: Vec<String>,
    /// Canvas zoom (screen points per label pixel), used when `zoom_fit` is off.
    pub zoom: f32,
    /// Fit the canvas to the space it has.
    pub zoom_fit: bool,
    /// Render while a stroke is in progress (always on stroke end).
    pub live_preview: bool,
    /// Run a generator's int8 variant when its package has a usable one (`Auto`), or always
    /// its float graph.
    #[serde(deserialize_with = "lenient")]
    pub precision: Precision,
    pub last_open_dir: Option<PathBuf>,
    pub last_save_dir: Option<PathBuf>,
    pub show_models_window: bool,
    pub show_shortcuts_window: bool,
    /// The Train tab's choices.
    pub train: TrainSettings,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            view: View::Paint,
            tool: Tool::Brush,
            brush_size: 12.0,
            active_class: 0,
            seed: 0,
            seed_locked: false,
            style: StyleChoice::Seed,
            saved_styles: Vec::new(),
            edit_view: EditView::Edited,
            active_model: None,
            compare_models: Vec::new(),
            zoom: 2.0,
            zoom_fit: true,
            live_preview: true,
            precision: Precision::Auto,
            last_open_dir: None,
            last_save_dir: None,
            show_models_window: false,
            show_shortcuts_window: false,
            train: TrainSettings::default(),
        }
    }
}

impl AppState {
    /// Clamps values a stale or hand-edited settings file could have out of range.
    pub fn sanitize(&mut self) {
        if !self.brush_size.is_finite() {
            self.brush_size = AppState::default().brush_size;
        }
        self.brush_size = self
            .brush_size
            .clamp(*BRUSH_SIZES.start(), *BRUSH_SIZES.end());
        if !self.zoom.is_finite() {
            self.zoom = AppState::default().zoom;
        }
        self.zoom = self.zoom.clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end());
        let mut seen = Vec::new();
        self.compare_models.retain(|id| {
            let fresh = !seen.contains(id);
            seen.push(id.clone());
            fresh
        });
        self.compare_models.truncate(MAX_COMPARE);
    }

    /// The models whose results are on screen in this view.
    pub fn visible_models(&self) -> Vec<String> {
        match self.view {
            View::Paint => self.active_model.iter().cloned().collect(),
            View::Compare => self.compare_models.clone(),
            View::Train => Vec::new(),
        }
    }
}

/// The canvas's pan and the zoom it was last drawn at. Not persisted: the pan is set by
/// commands; the zoom on screen is measured by the canvas view (the fit zoom when fitting), and
/// relative zooming ("+", Ctrl+wheel) starts from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CanvasViewport {
    /// Offset of the canvas centre from the centre of its area, in points.
    pub pan: egui::Vec2,
    /// Screen points per label pixel in the last frame.
    pub shown_zoom: f32,
}

impl Default for CanvasViewport {
    fn default() -> Self {
        Self {
            pan: egui::Vec2::ZERO,
            shown_zoom: 1.0,
        }
    }
}

/// A fresh seed in 0..=[`MAX_DRAWN_SEED`], different from `previous`.
pub fn draw_seed(previous: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS per instance: enough randomness for a style seed.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(previous);
    let mut seed = hasher.finish() % (MAX_DRAWN_SEED + 1);
    if seed == previous {
        seed = (seed + 1) % (MAX_DRAWN_SEED + 1);
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_clamps_and_dedups() {
        let mut s = AppState {
            brush_size: 1e9,
            zoom: f32::NAN,
            compare_models: ["a", "b", "a", "c", "d", "e"].map(String::from).to_vec(),
            ..AppState::default()
        };
        s.sanitize();
        assert_eq!(s.brush_size, *BRUSH_SIZES.end());
        assert_eq!(s.zoom, AppState::default().zoom);
        assert_eq!(s.compare_models, ["a", "b", "c", "d"]);
    }

    #[test]
    fn drawn_seeds_differ_and_stay_small() {
        for prev in [0, 5, MAX_DRAWN_SEED] {
            let s = draw_seed(prev);
            assert_ne!(s, prev);
            assert!(s <= MAX_DRAWN_SEED);
        }
    }

    #[test]
    fn state_round_trips_through_json_and_tolerates_missing_fields() {
        let s = AppState {
            tool: Tool::Fill,
            seed: 42,
            compare_models: vec!["x".into(), "y".into()],
            ..AppState::default()
        };
        let text = serde_json::to_string(&s).expect("serialise");
        let back: AppState = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, s);
        let partial: AppState = serde_json::from_str(r#"{"seed": 7}"#).expect("partial");
        assert_eq!(partial.seed, 7);
        assert_eq!(partial.tool, Tool::Brush);
        assert_eq!(partial.precision, Precision::Auto);
        let float = AppState {
            precision: Precision::Float,
            ..AppState::default()
        };
        let text = serde_json::to_string(&float).expect("serialise");
        assert!(text.contains(r#""precision":"float""#), "{text}");
        let back: AppState = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back.precision, Precision::Float);
        // An unknown value resets this setting only.
        let odd: AppState =
            serde_json::from_str(r#"{"seed": 7, "precision": "int4"}"#).expect("lenient");
        assert_eq!((odd.seed, odd.precision), (7, Precision::Auto));
    }
}
