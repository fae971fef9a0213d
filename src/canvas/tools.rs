//! Painting tools. Coordinates are in label-map pixels: pixel (x, y) covers [x, x+1) x [y, y+1),
//! so its centre is (x + 0.5, y + 0.5). A shape paints every pixel whose centre it covers.

use serde::{Deserialize, Serialize};

use super::LabelMap;

/// The canvas tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Tool {
    #[default]
    Brush,
    /// Paints the model's don't-care class.
    Eraser,
    Fill,
    Line,
    Rect,
    Eyedropper,
}

impl Tool {
    pub const ALL: [Tool; 6] = [
        Tool::Brush,
        Tool::Eraser,
        Tool::Fill,
        Tool::Line,
        Tool::Rect,
        Tool::Eyedropper,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tool::Brush => "Brush",
            Tool::Eraser => "Eraser",
            Tool::Fill => "Fill",
            Tool::Line => "Line",
            Tool::Rect => "Rectangle",
            Tool::Eyedropper => "Eyedropper",
        }
    }
}

/// The bounding box of the pixels an edit changed (`x1`, `y1` exclusive), or empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dirty {
    rect: Option<[u32; 4]>,
}

impl Dirty {
    pub const EMPTY: Dirty = Dirty { rect: None };

    fn include(&mut self, x: u32, y: u32) {
        self.rect = Some(match self.rect {
            None => [x, y, x + 1, y + 1],
            Some([x0, y0, x1, y1]) => [x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)],
        });
    }

    pub fn is_empty(&self) -> bool {
        self.rect.is_none()
    }

    /// `[x0, y0, x1, y1]` with exclusive ends.
    pub fn bounds(&self) -> Option<[u32; 4]> {
        self.rect
    }

    pub fn union(self, other: Dirty) -> Dirty {
        match (self.rect, other.rect) {
            (None, _) => other,
            (_, None) => self,
            (Some([a0, b0, a1, b1]), Some([c0, d0, c1, d1])) => Dirty {
                rect: Some([a0.min(c0), b0.min(d0), a1.max(c1), b1.max(d1)]),
            },
        }
    }
}

// A radius below this could miss every pixel centre; this keeps a 1-pixel brush visible.
const MIN_RADIUS: f32 = std::f32::consts::FRAC_1_SQRT_2 + 1e-3;

fn set_tracked(map: &mut LabelMap, x: u32, y: u32, class: u8, dirty: &mut Dirty) {
    if map.get(x, y).is_some_and(|v| v != class) {
        map.set(x, y, class);
        dirty.include(x, y);
    }
}

/// Pixel index range whose centres fall in [lo, hi], clipped to [0, size).
fn pixel_span(lo: f32, hi: f32, size: u32) -> Option<(u32, u32)> {
    if !lo.is_finite() || !hi.is_finite() || size == 0 {
        return None;
    }
    let first = (lo - 0.5).ceil().max(0.0);
    let last = (hi - 0.5).floor().min(size as f32 - 1.0);
    (first <= last).then_some((first as u32, last as u32))
}

/// Paints a filled disc.
pub fn paint_disc(map: &mut LabelMap, cx: f32, cy: f32, radius: f32, class: u8) -> Dirty {
    paint_stroke(map, (cx, cy), (cx, cy), radius, class)
}

/// Paints a capsule (every point within `radius` of the segment), so that fast strokes sampled
/// far apart leave no gaps.
pub fn paint_stroke(
    map: &mut LabelMap,
    from: (f32, f32),
    to: (f32, f32),
    radius: f32,
    class: u8,
) -> Dirty {
    let r = radius.max(MIN_RADIUS);
    let mut dirty = Dirty::EMPTY;
    let Some((x0, x1)) = pixel_span(from.0.min(to.0) - r, from.0.max(to.0) + r, map.width()) else {
        return dirty;
    };
    let Some((y0, y1)) = pixel_span(from.1.min(to.1) - r, from.1.max(to.1) + r, map.height())
    else {
        return dirty;
    };
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len2 = dx * dx + dy * dy;
    let r2 = r * r + 1e-4;
    for y in y0..=y1 {
        let py = y as f32 + 0.5;
        for x in x0..=x1 {
            let px = x as f32 + 0.5;
            let t = if len2 > 0.0 {
                (((px - from.0) * dx + (py - from.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (qx, qy) = (from.0 + t * dx - px, from.1 + t * dy - py);
            if qx * qx + qy * qy <= r2 {
                set_tracked(map, x, y, class, &mut dirty);
            }
        }
    }
    dirty
}

/// A straight line `2 * radius` wide with round caps.
pub fn draw_line(
    map: &mut LabelMap,
    from: (f32, f32),
    to: (f32, f32),
    radius: f32,
    class: u8,
) -> Dirty {
    paint_stroke(map, from, to, radius, class)
}

/// Fills the axis-aligned rectangle with corners `a` and `b`, including the pixels they lie in.
pub fn fill_rect(map: &mut LabelMap, a: (f32, f32), b: (f32, f32), class: u8) -> Dirty {
    let mut dirty = Dirty::EMPTY;
    let (w, h) = (map.width() as f32, map.height() as f32);
    let (lo_x, hi_x) = (a.0.min(b.0).floor(), a.0.max(b.0).floor());
    let (lo_y, hi_y) = (a.1.min(b.1).floor(), a.1.max(b.1).floor());
    if !(lo_x.is_finite() && hi_x.is_finite() && lo_y.is_finite() && hi_y.is_finite())
        || hi_x < 0.0
        || hi_y < 0.0
        || lo_x >= w
        || lo_y >= h
    {
        return dirty;
    }
    let (x0, x1) = (lo_x.max(0.0) as u32, hi_x.min(w - 1.0) as u32);
    let (y0, y1) = (lo_y.max(0.0) as u32, hi_y.min(h - 1.0) as u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            set_tracked(map, x, y, class, &mut dirty);
        }
    }
    dirty
}

/// Fills a polygon (even-odd rule at pixel centres).
pub fn fill_polygon(map: &mut LabelMap, points: &[(f32, f32)], class: u8) -> Dirty {
    let mut dirty = Dirty::EMPTY;
    if points.len() < 3 {
        return dirty;
    }
    let lo = points.iter().map(|p| p.1).fold(f32::INFINITY, f32::min);
    let hi = points.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
    let Some((y0, y1)) = pixel_span(lo, hi, map.height()) else {
        return dirty;
    };
    let mut xs = Vec::new();
    for y in y0..=y1 {
        let py = y as f32 + 0.5;
        xs.clear();
        for (i, &a) in points.iter().enumerate() {
            let b = points[(i + 1) % points.len()];
            if (a.1 <= py) != (b.1 <= py) {
                xs.push(a.0 + (py - a.1) / (b.1 - a.1) * (b.0 - a.0));
            }
        }
        xs.sort_by(f32::total_cmp);
        for pair in xs.chunks_exact(2) {
            if let Some((x0, x1)) = pixel_span(pair[0], pair[1], map.width()) {
                for x in x0..=x1 {
                    set_tracked(map, x, y, class, &mut dirty);
                }
            }
        }
    }
    dirty
}

/// Scanline flood fill of the 4-connected region of `(x, y)`; iterative, so any region size is safe.
pub fn flood_fill(map: &mut LabelMap, x: u32, y: u32, class: u8) -> Dirty {
    let mut dirty = Dirty::EMPTY;
    let Some(target) = map.get(x, y) else {
        return dirty;
    };
    if target == class {
        return dirty;
    }
    let (w, h) = (map.width(), map.height());
    let mut seeds = vec![(x, y)];
    while let Some((sx, sy)) = seeds.pop() {
        if map.get(sx, sy) != Some(target) {
            continue;
        }
        let mut left = sx;
        while left > 0 && map.get(left - 1, sy) == Some(target) {
            left -= 1;
        }
        let mut right = sx;
        while right + 1 < w && map.get(right + 1, sy) == Some(target) {
            right += 1;
        }
        for fx in left..=right {
            map.set(fx, sy, class);
        }
        dirty.include(left, sy);
        dirty.include(right, sy);
        // One seed per run of target pixels in the neighbouring rows.
        for ny in [sy.checked_sub(1), (sy + 1 < h).then_some(sy + 1)]
            .into_iter()
            .flatten()
        {
            let mut in_run = false;
            for fx in left..=right {
                let hit = map.get(fx, ny) == Some(target);
                if hit && !in_run {
                    seeds.push((fx, ny));
                }
                in_run = hit;
            }
        }
    }
    dirty
}

/// The class under a canvas position (eyedropper).
pub fn pick_class(map: &LabelMap, x: f32, y: f32) -> Option<u8> {
    if x < 0.0 || y < 0.0 || !x.is_finite() || !y.is_finite() {
        return None;
    }
    map.get(x as u32, y as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(map: &LabelMap, class: u8) -> usize {
        map.data().iter().filter(|&&v| v == class).count()
    }

    #[test]
    fn disc_is_round_and_reports_bounds() {
        let mut m = LabelMap::new(20, 20, 0);
        let d = paint_disc(&mut m, 10.0, 10.0, 3.0, 1);
        // Pixel centres within 3 of (10,10): offsets +-0.5, +-1.5, +-2.5 give a 32-pixel digital disc.
        assert_eq!(count(&m, 1), 32);
        assert_eq!(d.bounds(), Some([7, 7, 13, 13]));
        assert_eq!(m.get(10, 10), Some(1));
        assert_eq!(m.get(7, 7), Some(0)); // corner outside the circle
        // Repainting the same class changes nothing.
        assert!(paint_disc(&mut m, 10.0, 10.0, 3.0, 1).is_empty());
    }

    #[test]
    fn tiny_brush_paints_one_pixel() {
        let mut m = LabelMap::new(5, 5, 0);
        paint_disc(&mut m, 2.0, 2.0, 0.1, 4);
        assert!(count(&m, 4) >= 1);
        let mut m = LabelMap::new(5, 5, 0);
        paint_disc(&mut m, 2.5, 2.5, 0.5, 4);
        assert_eq!(count(&m, 4), 1);
        assert_eq!(m.get(2, 2), Some(4));
    }

    #[test]
    fn fast_stroke_has_no_gaps() {
        let mut m = LabelMap::new(100, 10, 0);
        // Two samples 90 px apart: every column between them must be painted on the centre row.
        paint_stroke(&mut m, (5.0, 5.0), (95.0, 5.0), 1.5, 2);
        for x in 5..95 {
            assert_eq!(m.get(x, 4), Some(2), "gap at x={x}");
        }
        assert_eq!(m.get(50, 0), Some(0));
        assert_eq!(m.get(50, 9), Some(0));
    }

    #[test]
    fn diagonal_line_is_connected() {
        let mut m = LabelMap::new(50, 50, 0);
        draw_line(&mut m, (0.5, 0.5), (49.5, 49.5), 0.5, 3);
        for i in 0..50 {
            assert_eq!(m.get(i, i), Some(3));
        }
    }

    #[test]
    fn stroke_outside_map_is_clipped() {
        let mut m = LabelMap::new(10, 10, 0);
        let d = paint_stroke(&mut m, (-50.0, 5.0), (-20.0, 5.0), 3.0, 1);
        assert!(d.is_empty());
        let d = paint_stroke(&mut m, (-5.0, 5.5), (2.0, 5.5), 1.0, 1);
        assert_eq!(d.bounds().map(|b| b[0]), Some(0));
        assert_eq!(m.get(0, 5), Some(1));
        assert!(paint_stroke(&mut m, (f32::NAN, 1.0), (2.0, 2.0), 2.0, 1).is_empty());
    }

    #[test]
    fn rect_fills_inclusive_corners_any_order() {
        let mut m = LabelMap::new(10, 10, 0);
        let d = fill_rect(&mut m, (7.2, 6.9), (2.0, 3.0), 5);
        assert_eq!(count(&m, 5), 6 * 4);
        assert_eq!(d.bounds(), Some([2, 3, 8, 7]));
        let d = fill_rect(&mut m, (-5.0, -5.0), (100.0, 0.5), 6);
        assert_eq!(d.bounds(), Some([0, 0, 10, 1]));
    }

    #[test]
    fn polygon_fill() {
        let mut m = LabelMap::new(10, 10, 0);
        fill_polygon(
            &mut m,
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
            1,
        );
        assert_eq!(count(&m, 1), 100);
        let mut m = LabelMap::new(10, 10, 0);
        // Right triangle covering the lower-left half (centres strictly below the diagonal + on it).
        fill_polygon(&mut m, &[(0.0, 0.0), (10.0, 10.0), (0.0, 10.0)], 1);
        assert_eq!(m.get(0, 9), Some(1));
        assert_eq!(m.get(9, 0), Some(0));
        assert!((40..=60).contains(&count(&m, 1)));
    }

    #[test]
    fn flood_fill_stops_at_borders_and_handles_big_regions() {
        let mut m = LabelMap::new(9, 9, 0);
        // A closed ring of class 1 around the centre.
        for i in 2..7 {
            m.set(i, 2, 1);
            m.set(i, 6, 1);
            m.set(2, i, 1);
            m.set(6, i, 1);
        }
        let d = flood_fill(&mut m, 4, 4, 3);
        assert_eq!(count(&m, 3), 9);
        assert_eq!(d.bounds(), Some([3, 3, 6, 6]));
        // Outside region is untouched; filling it fills around the ring (4-connectivity).
        flood_fill(&mut m, 0, 0, 2);
        assert_eq!(count(&m, 2), 81 - 9 - 16);
        assert_eq!(m.get(4, 4), Some(3));
        // Same class: nothing to do. Out of bounds: nothing to do.
        assert!(flood_fill(&mut m, 0, 0, 2).is_empty());
        assert!(flood_fill(&mut m, 100, 0, 5).is_empty());

        // A serpentine maze over a large map would blow a recursive fill's stack.
        let (w, h) = (2000u32, 2000u32);
        let mut big = LabelMap::new(w, h, 0);
        for y in (1..h).step_by(2) {
            for x in 0..w {
                big.set(x, y, 1);
            }
            // Leave a gap alternately at the right and left end.
            let gap = if (y / 2) % 2 == 0 { w - 1 } else { 0 };
            big.set(gap, y, 0);
        }
        let zeros = count(&big, 0);
        flood_fill(&mut big, 0, 0, 9);
        assert_eq!(count(&big, 9), zeros);
    }

    #[test]
    fn eyedropper() {
        let mut m = LabelMap::new(4, 4, 2);
        m.set(3, 1, 7);
        assert_eq!(pick_class(&m, 3.9, 1.2), Some(7));
        assert_eq!(pick_class(&m, 0.0, 0.0), Some(2));
        assert_eq!(pick_class(&m, -0.5, 0.0), None);
        assert_eq!(pick_class(&m, 4.0, 0.0), None);
    }

    #[test]
    fn dirty_union() {
        let mut a = Dirty::EMPTY;
        a.include(1, 1);
        let mut b = Dirty::EMPTY;
        b.include(5, 0);
        assert_eq!(a.union(b).bounds(), Some([1, 0, 6, 2]));
        assert_eq!(Dirty::EMPTY.union(b), b);
    }
}
