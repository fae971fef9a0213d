//! What the views remember between frames: textures of the images they show (kept up to date
//! from the resources by `super::textures`), the press on the canvas, where things were drawn.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::ui::state::MapPos;

/// The views' memory (nothing in here is read by the actions).
#[derive(Default)]
pub struct ViewMemory {
    pub canvas: CanvasMemory,
    /// The latest image of each generator, by id.
    pub results: HashMap<String, ResultTexture>,
    /// The sample grid of the run on screen.
    pub sample: Option<SampleTexture>,
    /// The loss plot's bounds in the last frame: (min, max) of (step, loss).
    pub plot_bounds: Option<([f64; 2], [f64; 2])>,
    /// Photo thumbnails of styles, by style fingerprint.
    pub style_thumbnails: HashMap<u64, egui::TextureHandle>,
    /// Kept styles' previews, by (model id, style fingerprint).
    pub style_previews: HashMap<(String, u64), ResultTexture>,
    /// The photo being edited: original, edited and mask.
    pub edit: Option<EditTextures>,
    /// Where the results were drawn in the last frame (a photo dropped there gives the style).
    pub results_rect: Option<egui::Rect>,
    /// The name being typed for "Save style…" (`None`: no name asked).
    pub style_name: Option<String>,
}

/// The photo being edited as textures, and which session and revision they show.
pub struct EditTextures {
    pub session: u64,
    pub revision: u64,
    pub original: egui::TextureHandle,
    pub edited: egui::TextureHandle,
    pub mask: egui::TextureHandle,
}

/// The canvas: its texture and the pointer on it.
pub struct CanvasMemory {
    pub texture: Option<egui::TextureHandle>,
    /// Start and latest position of the primary press on the canvas.
    pub press: Option<(MapPos, MapPos)>,
    /// Where the label map was drawn in the last frame (screen points).
    pub image_rect: egui::Rect,
    /// Label-map position under the pointer.
    pub hover: Option<MapPos>,
}

impl Default for CanvasMemory {
    fn default() -> Self {
        Self {
            texture: None,
            press: None,
            image_rect: egui::Rect::NOTHING,
            hover: None,
        }
    }
}

/// A generator's image as a texture, and which of its images it shows.
pub struct ResultTexture {
    pub texture: egui::TextureHandle,
    pub revision: u64,
}

/// A run's sample grid as a texture, and which sample it shows.
pub struct SampleTexture {
    pub texture: egui::TextureHandle,
    pub path: PathBuf,
    pub step: u64,
}
