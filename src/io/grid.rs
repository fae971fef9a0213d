//! The comparison grid: images side by side, each with caption lines under it.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};

/// Border around the grid, in pixels.
pub const GRID_MARGIN: u32 = 8;
/// Space between cells, in pixels.
pub const GRID_GAP: u32 = 8;
const CAPTION_PX: f32 = 15.0;
const LINE_HEIGHT: u32 = 19;
const CAPTION_TOP: u32 = 4;
const BACKGROUND: [u8; 4] = [255, 255, 255, 255];
const TEXT: [u8; 3] = [20, 20, 20];

/// One image of the grid and the lines under it (model name, architecture, latency, seed ...).
#[derive(Debug, Clone)]
pub struct GridCell {
    pub image: image::RgbaImage,
    pub caption: Vec<String>,
}

/// Where everything goes: the grid size and each cell's top-left corner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridLayout {
    pub width: u32,
    pub height: u32,
    pub columns: u32,
    pub cell_width: u32,
    pub cell_height: u32,
    pub origins: Vec<(u32, u32)>,
}

/// One row up to 3 cells, else a near-square grid (4 -> 2x2, 5 -> 3x2).
pub fn grid_layout(cells: &[GridCell]) -> GridLayout {
    let n = cells.len() as u32;
    let columns = match n {
        0 => 1,
        1..=3 => n,
        _ => (f64::from(n).sqrt().ceil()) as u32,
    };
    let rows = n.div_ceil(columns).max(1);
    let cell_width = cells.iter().map(|c| c.image.width()).max().unwrap_or(0);
    let image_height = cells.iter().map(|c| c.image.height()).max().unwrap_or(0);
    let lines = cells.iter().map(|c| c.caption.len()).max().unwrap_or(0) as u32;
    let caption = if lines > 0 {
        CAPTION_TOP + lines * LINE_HEIGHT
    } else {
        0
    };
    let cell_height = image_height + caption;
    let origins = (0..n)
        .map(|i| {
            (
                GRID_MARGIN + (i % columns) * (cell_width + GRID_GAP),
                GRID_MARGIN + (i / columns) * (cell_height + GRID_GAP),
            )
        })
        .collect();
    GridLayout {
        width: 2 * GRID_MARGIN + columns * cell_width + (columns - 1) * GRID_GAP,
        height: 2 * GRID_MARGIN + rows * cell_height + (rows - 1) * GRID_GAP,
        columns,
        cell_width,
        cell_height,
        origins,
    }
}

/// Renders the cells into one image with captions (font: egui's bundled Ubuntu Light).
pub fn compare_grid(cells: &[GridCell]) -> image::RgbaImage {
    let layout = grid_layout(cells);
    let mut out =
        image::RgbaImage::from_pixel(layout.width, layout.height, image::Rgba(BACKGROUND));
    let font = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT).ok();
    for (cell, &(x, y)) in cells.iter().zip(&layout.origins) {
        image::imageops::overlay(&mut out, &cell.image, i64::from(x), i64::from(y));
        let Some(font) = &font else { continue };
        let top = y + cell.image.height() + CAPTION_TOP;
        for (i, line) in cell.caption.iter().enumerate() {
            let baseline = top + i as u32 * LINE_HEIGHT;
            draw_text(&mut out, font, line, x, baseline, layout.cell_width);
        }
    }
    out
}

/// Draws one line of text with its top at `y`, cut with an ellipsis to `max_width`.
fn draw_text(
    img: &mut image::RgbaImage,
    font: &FontRef,
    text: &str,
    x: u32,
    y: u32,
    max_width: u32,
) {
    let scaled = font.as_scaled(PxScale::from(CAPTION_PX));
    let width_of = |s: &str| {
        let mut w = 0.0;
        let mut prev = None;
        for c in s.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                w += scaled.kern(p, id);
            }
            w += scaled.h_advance(id);
            prev = Some(id);
        }
        w
    };
    let mut line: String = text.to_string();
    if width_of(&line) > max_width as f32 {
        while !line.is_empty() && width_of(&format!("{line}…")) > max_width as f32 {
            line.pop();
        }
        line.push('…');
    }
    let mut caret = x as f32;
    let ascent = scaled.ascent();
    let mut prev = None;
    for c in line.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(CAPTION_PX, point(caret, y as f32 + ascent));
        caret += scaled.h_advance(id);
        prev = Some(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px < 0 || py < 0 || px >= i64::from(img.width()) || py >= i64::from(img.height()) {
                return;
            }
            let p = img.get_pixel_mut(px as u32, py as u32);
            let a = coverage.clamp(0.0, 1.0);
            for (dst, &text) in p.0.iter_mut().zip(&TEXT) {
                *dst = (f32::from(text) * a + f32::from(*dst) * (1.0 - a)).round() as u8;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(w: u32, h: u32, c: u8, caption: &[&str]) -> GridCell {
        GridCell {
            image: image::RgbaImage::from_pixel(w, h, image::Rgba([c, c, c, 255])),
            caption: caption.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn places_images_and_draws_captions() {
        let cells = vec![
            cell(64, 48, 0, &["SPADE", "spade · fpse · 12 ms"]),
            cell(
                64,
                48,
                200,
                &["CC-FPSE, a very long caption that cannot fit in the cell"],
            ),
        ];
        let layout = grid_layout(&cells);
        assert_eq!(layout.columns, 2);
        assert_eq!(layout.origins, vec![(8, 8), (8 + 64 + 8, 8)]);
        assert_eq!(layout.width, 8 + 64 + 8 + 64 + 8);
        assert_eq!(layout.height, 8 + 48 + CAPTION_TOP + 2 * LINE_HEIGHT + 8);
        let img = compare_grid(&cells);
        assert_eq!(img.dimensions(), (layout.width, layout.height));
        // The images are copied unchanged.
        assert_eq!(img.get_pixel(8, 8).0, [0, 0, 0, 255]);
        assert_eq!(img.get_pixel(8 + 63, 8 + 47).0, [0, 0, 0, 255]);
        assert_eq!(img.get_pixel(80 + 10, 8 + 10).0, [200, 200, 200, 255]);
        // Caption area holds dark text pixels under both cells, and nothing spills past the cell.
        let dark = |x0: u32, x1: u32| {
            (x0..x1)
                .flat_map(|x| (56..layout.height).map(move |y| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0[0] < 128)
                .count()
        };
        assert!(dark(8, 72) > 50, "caption under the first cell");
        assert!(dark(80, 144) > 50, "caption under the second cell");
        assert_eq!(
            dark(144, layout.width),
            0,
            "long captions are cut to the cell"
        );
    }

    #[test]
    fn grid_shapes() {
        let c = |n: usize| (0..n).map(|_| cell(10, 10, 0, &[])).collect::<Vec<_>>();
        assert_eq!(grid_layout(&c(3)).columns, 3);
        assert_eq!(grid_layout(&c(4)).columns, 2);
        let five = grid_layout(&c(5));
        assert_eq!(five.columns, 3);
        assert_eq!(five.height, 2 * GRID_MARGIN + 2 * 10 + GRID_GAP);
        assert_eq!(
            compare_grid(&[]).dimensions(),
            (2 * GRID_MARGIN, 2 * GRID_MARGIN)
        );
    }
}
