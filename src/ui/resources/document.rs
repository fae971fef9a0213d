//! The layout being painted: the label map, its undo history and classes, and what changed
//! since the canvas texture was last brought up to date.

use std::path::{Path, PathBuf};

use crate::canvas::{Dirty, History, LabelMap, Palette};
use crate::models::ClassInfo;
use crate::ui::state::MapPos;

/// Size of the canvas when no model is available (the CamVid models' size).
pub const FALLBACK_SIZE: (u32, u32) = (256, 192);

/// The CamVid classes, so the canvas can be painted (and layouts saved) before any model loads.
pub fn fallback_classes() -> (Vec<ClassInfo>, Option<u8>) {
    let table = crate::models::camvid();
    (table.classes.clone(), table.dontcare)
}

/// What changed in the label map since the canvas texture was last updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingChanges {
    /// Pixels changed.
    pub dirty: Dirty,
    /// The whole texture must be rebuilt (undo, open, model switch).
    pub full_redraw: bool,
}

/// The layout being painted, in the classes of the active model.
#[derive(Debug)]
pub struct Document {
    pub labels: LabelMap,
    pub history: History,
    pub classes: Vec<ClassInfo>,
    pub dontcare: Option<u8>,
    pub palette: Palette,
    /// The file the layout came from, if any.
    pub source: Option<PathBuf>,
    /// Bumped on every change of `labels`; renders carry it as their generation.
    pub version: u64,
    /// Changes the canvas texture has not shown yet (taken once per frame).
    changes: PendingChanges,
    /// Last position of the brush stroke in progress.
    pub stroke: Option<MapPos>,
}

impl Document {
    pub fn new(labels: LabelMap, classes: Vec<ClassInfo>, dontcare: Option<u8>) -> Self {
        let palette = Palette {
            colors: classes.iter().map(|c| c.color).collect(),
        };
        Self {
            labels,
            history: History::default(),
            classes,
            dontcare,
            palette,
            source: None,
            version: 1,
            changes: PendingChanges {
                dirty: Dirty::EMPTY,
                full_redraw: true,
            },
            stroke: None,
        }
    }

    pub fn set_classes(&mut self, classes: Vec<ClassInfo>, dontcare: Option<u8>) {
        self.palette = Palette {
            colors: classes.iter().map(|c| c.color).collect(),
        };
        self.classes = classes;
        self.dontcare = dontcare;
        self.changes.full_redraw = true;
    }

    /// Records a changed region (texture update and a new render).
    pub fn touched(&mut self, dirty: Dirty) {
        if !dirty.is_empty() {
            self.changes.dirty = self.changes.dirty.union(dirty);
            self.version += 1;
        }
    }

    /// Records that the whole map may have changed.
    pub fn replaced(&mut self) {
        self.changes.full_redraw = true;
        self.version += 1;
    }

    /// The changes since the last call: what the canvas texture must show anew.
    pub fn take_changes(&mut self) -> PendingChanges {
        std::mem::replace(
            &mut self.changes,
            PendingChanges {
                dirty: Dirty::EMPTY,
                full_redraw: false,
            },
        )
    }

    /// Replaces the layout as one undo step.
    pub fn replace_labels(&mut self, labels: LabelMap) {
        self.stroke = None;
        self.history.record(&self.labels);
        self.labels = labels;
        self.history.commit(&self.labels);
        self.replaced();
    }

    /// The class painted by the eraser and by Clear.
    pub fn erase_class(&self) -> u8 {
        self.dontcare.unwrap_or(0)
    }

    pub fn class_name(&self, id: u8) -> String {
        self.classes
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| format!("unknown class {id}"), |c| c.name.clone())
    }

    /// The class id whose name matches (case-insensitive).
    pub fn class_named(&self, name: &str) -> Option<u8> {
        self.classes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.id)
    }
}

/// A street-like starting scene (sky, buildings, road) for the given classes and size.
pub fn default_scene(width: u32, height: u32, doc_classes: &[ClassInfo]) -> LabelMap {
    let find = |name: &str, fallback: u8| {
        doc_classes
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map_or(fallback, |c| c.id)
    };
    let max_id = doc_classes.iter().map(|c| c.id).max().unwrap_or(0);
    let (sky, building, road, pavement) = (
        find("sky", 0).min(max_id),
        find("building", 1).min(max_id),
        find("road", 3).min(max_id),
        find("pavement", 4).min(max_id),
    );
    let mut map = LabelMap::new(width, height, sky);
    let (w, h) = (width as f32, height as f32);
    let horizon = h * 0.55;
    crate::canvas::fill_rect(&mut map, (0.0, h * 0.18), (w * 0.3, horizon), building);
    crate::canvas::fill_rect(&mut map, (w * 0.7, h * 0.1), (w, horizon), building);
    crate::canvas::fill_rect(&mut map, (0.0, horizon), (w, h), pavement);
    crate::canvas::fill_polygon(
        &mut map,
        &[
            (w * 0.45, horizon),
            (w * 0.55, horizon),
            (w * 1.05, h),
            (-w * 0.05, h),
        ],
        road,
    );
    map
}

/// A layout file's name: opening and saving layouts take `.png` names only.
pub fn is_png(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}
