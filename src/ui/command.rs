//! What the UI functions ask for. They draw and push commands; `SceneBrushApp::apply_commands`
//! carries them out after the UI pass, so no widget mutates the painting mid-frame.

use std::path::PathBuf;

use crate::canvas::Tool;

use super::state::View;

/// A canvas position in label-map pixels (pixel (x, y) covers [x, x+1) x [y, y+1)).
pub type MapPos = (f32, f32);

/// Files the app writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    /// The layout as an 8-bit grayscale PNG of class ids.
    LayoutIds,
    /// The layout in class colours (RGB PNG).
    LayoutColors,
    /// The active model's synthesized image (PNG or JPEG by extension).
    Image,
    /// The compare view's images side by side with captions.
    Grid,
}

impl SaveKind {
    pub fn title(self) -> &'static str {
        match self {
            SaveKind::LayoutIds => "Save layout (class ids)",
            SaveKind::LayoutColors => "Save colour layout",
            SaveKind::Image => "Export image",
            SaveKind::Grid => "Export comparison grid",
        }
    }

    /// File name the save dialog proposes.
    pub fn default_file_name(self) -> &'static str {
        match self {
            SaveKind::LayoutIds => "layout.png",
            SaveKind::LayoutColors => "layout-colours.png",
            SaveKind::Image => "scene.png",
            SaveKind::Grid => "comparison.png",
        }
    }

    /// Past-tense verb for the status line.
    pub fn done(self) -> &'static str {
        match self {
            SaveKind::LayoutIds | SaveKind::LayoutColors => "Saved layout",
            SaveKind::Image => "Exported image",
            SaveKind::Grid => "Exported comparison grid",
        }
    }
}

/// A painting gesture on the canvas, in label-map pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stroke {
    /// Brush or eraser pressed: starts one undo step and paints a dab.
    Begin(MapPos),
    /// Brush or eraser moved while pressed.
    To(MapPos),
    /// Brush or eraser released: completes the undo step.
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    SetTool(Tool),
    SetBrushSize(f32),
    /// Brush size one step bigger (+1) or smaller (-1).
    StepBrushSize(i32),
    SelectClass(u8),
    Stroke(Stroke),
    Fill(MapPos),
    Line {
        from: MapPos,
        to: MapPos,
    },
    Rect {
        a: MapPos,
        b: MapPos,
    },
    Pick(MapPos),
    Undo,
    Redo,
    /// Paints the whole canvas with the don't-care class (one undo step).
    Clear,
    /// Replaces the canvas with the default scene (one undo step).
    NewScene,

    SetView(View),
    SetActiveModel(String),
    /// Adds a model to the compare view, or removes it.
    ToggleCompare(String),
    NewStyle,
    SetSeed(u64),
    SetSeedLocked(bool),
    SetLivePreview(bool),

    /// Canvas zoom (points per label pixel) and pan offset (points, from centred).
    SetCanvasView {
        zoom: f32,
        pan: egui::Vec2,
    },
    /// Multiplies the zoom, keeping the canvas centre.
    ZoomBy(f32),
    ZoomFit,
    /// Zoom 1:1 (one label pixel per screen point).
    ZoomActual,

    /// Opens a label map; `None` asks with a file dialog.
    Open(Option<PathBuf>),
    /// Writes a file; `None` asks with a save dialog. With `overwrite` false an existing file is
    /// kept and the user is asked first.
    Save {
        kind: SaveKind,
        path: Option<PathBuf>,
        overwrite: bool,
    },
    /// Answer to "replace the existing file?".
    ConfirmOverwrite(bool),
    DismissError,
    ShowModelsWindow(bool),
    ShowShortcutsWindow(bool),
    Quit,
}
