//! Files: label-map PNG import/export, image export, the comparison grid, atomic writes.
mod atomic;
mod export;
mod grid;
mod labels;

use std::path::PathBuf;

pub use atomic::{atomic_write, move_aside};
pub use export::{ImageFormat, save_image, save_image_as};
pub use grid::{GRID_GAP, GRID_MARGIN, GridCell, GridLayout, compare_grid, grid_layout};
pub use labels::{
    IGNORE_ID, MAX_DECODED_BYTES, MAX_LABEL_PIXELS, check_input_file, fit_label_map,
    load_label_png, load_label_png_for, save_label_color_png, save_label_ids_png,
};

fn list<T>(values: &[(T, u64)], show: impl Fn(&T) -> String) -> String {
    values
        .iter()
        .map(|(v, n)| format!("{} ({n} pixel{})", show(v), if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn more(shown: usize, distinct: usize) -> String {
    if distinct > shown {
        format!(" and {} more", distinct - shown)
    } else {
        String::new()
    }
}

/// File errors; each names the file and says what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IoError {
    #[error("cannot read {}: {message}", .path.display())]
    Read { path: PathBuf, message: String },
    #[error("{} is a folder, not a file; pick a file inside it", .0.display())]
    Folder(PathBuf),
    #[error("{} is not a readable PNG image: {message}", .path.display())]
    Decode { path: PathBuf, message: String },
    #[error(
        "{} declares {width}x{height} pixels ({:.0} megapixels); a label map may have at most \
         {:.0} megapixels (for example 16384x8192). Scale it down to the model's size with \
         nearest-neighbour resampling (class ids stay exact), then open it",
        .path.display(), *.width as f64 * *.height as f64 / 1e6, MAX_LABEL_PIXELS as f64 / 1e6
    )]
    TooLarge {
        path: PathBuf,
        width: u32,
        height: u32,
    },
    #[error(
        "{} is a palette PNG whose indices and colours disagree: {detail}; its other colours are no \
         class colour ({}{}), so it is neither a map of class ids nor one of class colours. Save it \
         as an RGB PNG in the model's class colours, or as an 8-bit grayscale PNG of class ids",
        .path.display(),
        list(.stray, |c| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])),
        more(.stray.len(), *.stray_distinct)
    )]
    PaletteConflict {
        path: PathBuf,
        /// The indices drawn in another class's colour, with pixel counts.
        detail: String,
        /// The most frequent used colours that are no class colour.
        stray: Vec<([u8; 3], u64)>,
        stray_distinct: usize,
    },
    #[error(
        "{} is a {what} PNG; a label map is an 8-bit grayscale or palette PNG of class ids, or an \
         8-bit RGB(A) PNG in the model's class colours: convert it to one of those",
        .path.display()
    )]
    UnsupportedLabelFormat { path: PathBuf, what: String },
    #[error(
        "{} has {distinct} class id{} that the model does not know (its ids are 0..{}): {}{}. \
         Repaint those pixels with known classes, or open the file with the model it was made for",
        .path.display(), if *.distinct == 1 { "" } else { "s" }, .num_classes.saturating_sub(1),
        list(.values, |v| v.to_string()), more(.values.len(), *.distinct)
    )]
    UnknownIds {
        path: PathBuf,
        /// The most frequent unknown ids with their pixel counts.
        values: Vec<(u8, u64)>,
        distinct: usize,
        num_classes: usize,
    },
    #[error(
        "{} has {distinct} colour{} that match no class of the model: {}{}. A colour-coded label map \
         must use exactly the class colours of the palette (no anti-aliasing, no JPEG); repaint \
         those pixels or save the map as an 8-bit grayscale PNG of class ids",
        .path.display(), if *.distinct == 1 { "" } else { "s" },
        list(.values, |c| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])),
        more(.values.len(), *.distinct)
    )]
    UnknownColors {
        path: PathBuf,
        values: Vec<([u8; 3], u64)>,
        distinct: usize,
    },
    #[error(
        "{} is {}x{} but the model paints {}x{}; the aspect ratios differ, so crop the label map to \
         {}:{} first", .path.display(), .got.0, .got.1, .want.0, .want.1,
        .want.0 / gcd(.want.0, .want.1), .want.1 / gcd(.want.0, .want.1)
    )]
    AspectMismatch {
        path: PathBuf,
        got: (u32, u32),
        want: (u32, u32),
    },
    #[error("{} already exists; choose another name or allow overwriting it (--force)", .0.display())]
    Exists(PathBuf),
    #[error("the folder {} does not exist; create it or choose another", .0.display())]
    NoFolder(PathBuf),
    #[error("cannot write {}: {message}", .path.display())]
    Write { path: PathBuf, message: String },
    #[error(
        "{} has an unknown image type; use a name ending in .png, .jpg or .jpeg", .0.display()
    )]
    UnknownExtension(PathBuf),
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}
