//! What the views ask for. They draw and push commands; the actions (`crate::ui::actions`) carry
//! them out after the UI pass, so no widget mutates the painting mid-frame.

use std::path::PathBuf;

use crate::canvas::Tool;
use crate::models::Precision;
use crate::training::TrainSettings;

use super::app_state::View;
use super::style::EditView;

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
    /// The kept style at this index of the style strip, as a style file.
    Style(usize),
    /// The photo being edited, at the model's size.
    EditedPhoto,
    /// The photo being edited, at its own size (the generated part upscaled inside the mask).
    EditedPhotoFullSize,
}

impl SaveKind {
    pub fn title(self) -> &'static str {
        match self {
            SaveKind::LayoutIds => "Save layout (class ids)",
            SaveKind::LayoutColors => "Save colour layout",
            SaveKind::Image => "Export image",
            SaveKind::Grid => "Export comparison grid",
            SaveKind::Style(_) => "Export style",
            SaveKind::EditedPhoto => "Export edited photo",
            SaveKind::EditedPhotoFullSize => "Export edited photo at full size",
        }
    }

    /// File name the save dialog proposes.
    pub fn default_file_name(self) -> &'static str {
        match self {
            SaveKind::LayoutIds => "layout.png",
            SaveKind::LayoutColors => "layout-colours.png",
            SaveKind::Image => "scene.png",
            SaveKind::Grid => "comparison.png",
            SaveKind::Style(_) => "style.scenebrush-style.json",
            SaveKind::EditedPhoto => "edited-photo.png",
            SaveKind::EditedPhotoFullSize => "edited-photo-full-size.png",
        }
    }

    /// Past-tense verb for the status line.
    pub fn done(self) -> &'static str {
        match self {
            SaveKind::LayoutIds | SaveKind::LayoutColors => "Saved layout",
            SaveKind::Image => "Exported image",
            SaveKind::Grid => "Exported comparison grid",
            SaveKind::Style(_) => "Exported style",
            SaveKind::EditedPhoto | SaveKind::EditedPhotoFullSize => "Exported edited photo",
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
    /// A new seed (unless locked), and back to the seed's noise.
    NewStyle,
    /// This seed, and back to the seed's noise.
    SetSeed(u64),
    /// Takes the style of a photo (PNG or JPEG) with the style encoders of the models on screen;
    /// a style file given here is imported. `None` asks with a file dialog.
    StyleFromPhoto(Option<PathBuf>),
    /// Keeps the current style in the style strip under this name.
    SaveStyle(String),
    /// Makes the kept style at this index the current one.
    ApplyStyle(usize),
    /// Removes the kept style at this index.
    DeleteStyle(usize),
    /// Adds a style file (`*.scenebrush-style.json`) to the style strip; `None` asks with a file
    /// dialog.
    ImportStyle(Option<PathBuf>),
    SetSeedLocked(bool),
    SetLivePreview(bool),
    /// Which graph the generators run (int8 variants when available, or float); the sessions
    /// are loaded again, the painting stays.
    SetPrecision(Precision),

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
    /// Segments a photo into the canvas (one undo step); `None` asks with a file dialog.
    OpenPhoto(Option<PathBuf>),
    /// Edits a photo: its layout (segmented) replaces the canvas (one undo step), its style
    /// becomes the current one, and the result shows the photo with the generated image blended
    /// in only where the layout is changed. `None` asks with a file dialog.
    EditPhoto(Option<PathBuf>),
    /// Puts this PNG's layout into the canvas as a repaint of the photo being edited (one undo
    /// step; the edit goes on, the changed pixels are its mask): `--edit-layout`.
    ApplyEditedLayout(PathBuf),
    /// Leaves photo editing (the layout stays in the canvas).
    StopEditing,
    /// What the result shows while a photo is edited.
    SetEditView(EditView),
    /// Scans the model folders again and adds new packages.
    RescanModels,
    Train(TrainCommand),
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

/// Folders and files the Train tab asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainPick {
    /// A folder with photos/ and labels/ subfolders.
    Dataset,
    Photos,
    Labels,
    ClassFile,
}

impl TrainPick {
    pub fn title(self) -> &'static str {
        match self {
            TrainPick::Dataset => "Dataset folder (with photos/ and labels/)",
            TrainPick::Photos => "Photos folder",
            TrainPick::Labels => "Label maps folder",
            TrainPick::ClassFile => "Class list (JSON)",
        }
    }
}

/// What the Train tab asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainCommand {
    /// The tab's settings after an edit.
    Set(TrainSettings),
    /// Asks for a folder or file with a dialog.
    Pick(TrainPick),
    Picked(TrainPick, PathBuf),
    /// Runs the trainer's dataset check.
    Check,
    Start,
    /// Stops the run gracefully (it keeps a checkpoint).
    Stop,
    /// Continues the run in this folder from its checkpoint.
    Resume(PathBuf),
    /// Back to the settings after a run ended.
    CloseRun,
    /// Creates the trainer's Python environment (scripts/setup.sh).
    RunSetup,
    RefreshRuns,
}
