//! The label map being painted, the painting tools and undo/redo.
mod history;
mod label_map;
mod tools;

pub use history::{DEFAULT_HISTORY_BYTES, History};
pub use label_map::{LabelMap, Palette, UNKNOWN_CLASS_COLOR};
pub use tools::{
    Dirty, Tool, draw_line, fill_polygon, fill_rect, flood_fill, paint_disc, paint_stroke,
    pick_class,
};
