//! Editing a real photo by repainting its layout: only where the layout changed is the
//! generated image blended in, through a feathered mask; every other pixel is the photo's own,
//! bit for bit. Pure functions (no ONNX Runtime, no UI): the segmenter gives the original
//! layout, the generator the image of the edited one.
//!
//! The mask: the pixels whose class changed, dilated by [`DILATE_PX`] pixels (Euclidean) and
//! feathered. Alpha (the generated image's weight) is 1 on changed pixels and up to
//! [`SOLID_PX`] from them, then falls linearly with the distance to 1/5 at [`DILATE_PX`], and is
//! exactly 0 farther out, where the photo's pixels are copied, not blended.
//!
//! Why dilate: a layout's edges are not the photo's. The segmenter's boundaries are off by a
//! pixel or two (the segmenter predicts at 1/8 of the size and upsamples), and an object's fringe in the
//! photo (its antialiased outline, a shadow, a reflection) lies outside its labelled pixels: with
//! the mask only on the changed pixels, a removed car would leave its outline behind. The
//! generator, too, draws a changed region's edge softly over a few pixels (3x3 convolutions at
//! every scale). 2 solid pixels cover the fringe; 4 more of ramp hide the seam between the
//! generated picture and the photo. At the models' 256x192 that is 2.3% of the width; at the
//! photo's own size it scales with the photo.

use image::{Rgb, RgbImage};

use crate::canvas::LabelMap;
use crate::inference::{aspect_crop_rect, fit_photo};

/// The dilation of the changed pixels, in pixels at the model's size: alpha is 0 farther out.
pub const DILATE_PX: u32 = 6;
/// Up to this distance from a changed pixel, alpha is 1 (only the generated image).
pub const SOLID_PX: u32 = 2;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error(
        "the {what} is {}x{} but the {other} is {}x{}; both must be at the model's size (the \
         edited layout must be the photo's layout, repainted)",
        .got.0, .got.1, .want.0, .want.1
    )]
    SizeMismatch {
        what: &'static str,
        other: &'static str,
        got: (u32, u32),
        want: (u32, u32),
    },
}

fn same_size(
    what: &'static str,
    got: (u32, u32),
    other: &'static str,
    want: (u32, u32),
) -> Result<(), EditError> {
    if got == want {
        Ok(())
    } else {
        Err(EditError::SizeMismatch {
            what,
            other,
            got,
            want,
        })
    }
}

/// The feathered blend mask of an edit: per pixel the generated image's weight in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct EditMask {
    width: u32,
    height: u32,
    alpha: Vec<f32>,
    changed: usize,
}

impl EditMask {
    /// The mask of the pixels where `edited` differs from `original` (same size), dilated by
    /// [`DILATE_PX`] and feathered.
    pub fn from_layouts(original: &LabelMap, edited: &LabelMap) -> Result<EditMask, EditError> {
        same_size(
            "edited layout",
            (edited.width(), edited.height()),
            "original layout",
            (original.width(), original.height()),
        )?;
        let changed: Vec<bool> = original
            .data()
            .iter()
            .zip(edited.data())
            .map(|(a, b)| a != b)
            .collect();
        Ok(EditMask::from_changed(
            &changed,
            original.width(),
            original.height(),
        ))
    }

    /// The mask from a per-pixel "changed" flag (row-major, `width * height` of them).
    pub fn from_changed(changed: &[bool], width: u32, height: u32) -> EditMask {
        let d2 = squared_distance_within(changed, width, height, DILATE_PX);
        let alpha = d2.iter().map(|&d2| alpha_at(d2)).collect();
        EditMask {
            width,
            height,
            alpha,
            changed: changed.iter().filter(|&&c| c).count(),
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Per pixel, row-major: the generated image's weight; exactly 0 outside the dilated mask.
    pub fn alpha(&self) -> &[f32] {
        &self.alpha
    }

    /// How many pixels of the layout changed (before dilation).
    pub fn changed_pixels(&self) -> usize {
        self.changed
    }

    /// How many pixels the photo does not keep exactly (alpha > 0).
    pub fn covered_pixels(&self) -> usize {
        self.alpha.iter().filter(|&&a| a > 0.0).count()
    }

    /// Nothing changed: the edited photo is the photo.
    pub fn is_empty(&self) -> bool {
        self.changed == 0
    }

    /// The mask as a gray picture (alpha x 255), for showing it.
    pub fn to_image(&self) -> image::GrayImage {
        let data = self
            .alpha
            .iter()
            .map(|&a| (a * 255.0).round().clamp(0.0, 255.0) as u8)
            .collect();
        image::GrayImage::from_raw(self.width, self.height, data)
            .expect("width * height alpha values")
    }

    /// The mask at another size, bilinear (pixel centres aligned as in [`upscale`]): a pixel is
    /// 0 exactly when all the mask pixels it is interpolated from are 0.
    pub fn resized(&self, width: u32, height: u32) -> EditMask {
        let (sw, sh) = (self.width as usize, self.height as usize);
        let mut alpha = vec![0.0f32; width as usize * height as usize];
        if sw > 0 && sh > 0 {
            let xs = taps(self.width, width);
            let ys = taps(self.height, height);
            for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
                let (r0, r1) = (&self.alpha[y0 * sw..][..sw], &self.alpha[y1 * sw..][..sw]);
                for (x, &(x0, x1, fx)) in xs.iter().enumerate() {
                    alpha[y * width as usize + x] =
                        lerp(lerp(r0[x0], r0[x1], fx), lerp(r1[x0], r1[x1], fx), fy);
                }
            }
        }
        EditMask {
            width,
            height,
            alpha,
            changed: self.changed,
        }
    }
}

/// 1 up to [`SOLID_PX`] from a changed pixel, then a linear ramp that would reach 0 one pixel
/// beyond [`DILATE_PX`] (so every pixel within the dilation gets some of the generated image),
/// and 0 exactly beyond it.
fn alpha_at(d2: u32) -> f32 {
    let (solid, dilate) = (SOLID_PX as f32, DILATE_PX as f32);
    if d2 > DILATE_PX * DILATE_PX {
        return 0.0;
    }
    let d = (d2 as f32).sqrt();
    if d <= solid {
        1.0
    } else {
        ((dilate + 1.0 - d) / (dilate + 1.0 - solid)).clamp(0.0, 1.0)
    }
}

/// Per pixel the squared Euclidean distance to the nearest `true` pixel, when at most
/// `radius`; `u32::MAX` farther away. Exact: the distance to the nearest marked pixel of each
/// row (two sweeps), then the minimum over the rows within the radius.
pub fn squared_distance_within(marked: &[bool], width: u32, height: u32, radius: u32) -> Vec<u32> {
    let (w, h) = (width as usize, height as usize);
    let far = u32::MAX;
    let r = radius as usize;
    // Horizontal distance to the nearest marked pixel in the same row, capped at radius + 1.
    let cap = radius + 1;
    let mut row_dist = vec![cap; w * h];
    for y in 0..h {
        let row = &marked[y * w..(y + 1) * w];
        let out = &mut row_dist[y * w..(y + 1) * w];
        let mut last = cap;
        for x in 0..w {
            last = if row[x] { 0 } else { (last + 1).min(cap) };
            out[x] = last;
        }
        last = cap;
        for x in (0..w).rev() {
            last = if row[x] { 0 } else { (last + 1).min(cap) };
            out[x] = out[x].min(last);
        }
    }
    let mut d2 = vec![far; w * h];
    for y in 0..h {
        for dy in y.saturating_sub(r)..=(y + r).min(h.saturating_sub(1)) {
            let vy = (y.abs_diff(dy) as u32).pow(2);
            let src = &row_dist[dy * w..(dy + 1) * w];
            let dst = &mut d2[y * w..(y + 1) * w];
            for (d, &hx) in dst.iter_mut().zip(src) {
                if hx <= radius {
                    let v = vy + hx * hx;
                    if v <= radius * radius && v < *d {
                        *d = v;
                    }
                }
            }
        }
    }
    d2
}

fn lerp(a: f32, b: f32, t: f32) -> f32 {
    if t == 0.0 { a } else { a + (b - a) * t }
}

/// Bilinear sampling positions from `src` to `dst` pixels along one axis: for each
/// destination pixel the two source pixels and the weight of the second. Pixel centres are
/// aligned (the convention of torch's `align_corners=False`), clamped at the edges.
fn taps(src: u32, dst: u32) -> Vec<(usize, usize, f32)> {
    let scale = f64::from(src) / f64::from(dst.max(1));
    let last = src.saturating_sub(1) as usize;
    (0..dst)
        .map(|i| {
            let s = ((f64::from(i) + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            let f = if i1 == i0 {
                0.0
            } else {
                (s - i0 as f64) as f32
            };
            (i0, i1, f)
        })
        .collect()
}

/// Bilinear resize of an RGB image with the same sampling as [`EditMask::resized`] (the
/// generated image and its mask stay aligned at any size).
pub fn upscale(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (sw, sh) = img.dimensions();
    if (sw, sh) == (width, height) || sw == 0 || sh == 0 {
        return if sw == 0 || sh == 0 {
            RgbImage::new(width, height)
        } else {
            img.clone()
        };
    }
    let xs = taps(sw, width);
    let ys = taps(sh, height);
    RgbImage::from_fn(width, height, |x, y| {
        let (x0, x1, fx) = xs[x as usize];
        let (y0, y1, fy) = ys[y as usize];
        let px = |x: usize, y: usize| img.get_pixel(x as u32, y as u32).0;
        let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
        Rgb(std::array::from_fn(|k| {
            let top = lerp(f32::from(a[k]), f32::from(b[k]), fx);
            let bottom = lerp(f32::from(c[k]), f32::from(d[k]), fx);
            lerp(top, bottom, fy).round().clamp(0.0, 255.0) as u8
        }))
    })
}

fn blend(photo: Rgb<u8>, generated: Rgb<u8>, a: f32) -> Rgb<u8> {
    if a >= 1.0 {
        return generated;
    }
    Rgb(std::array::from_fn(|k| {
        let v = f32::from(photo.0[k]) * (1.0 - a) + f32::from(generated.0[k]) * a;
        v.round().clamp(0.0, 255.0) as u8
    }))
}

/// The edited photo at the model's size: `photo` (the photo as the model sees it, see
/// [`fit_photo`]) where alpha is 0, exactly; the generated image blended in by alpha elsewhere.
pub fn composite(
    photo: &RgbImage,
    generated: &RgbImage,
    mask: &EditMask,
) -> Result<RgbImage, EditError> {
    let size = (mask.width, mask.height);
    same_size("photo", photo.dimensions(), "edit mask", size)?;
    same_size("generated image", generated.dimensions(), "edit mask", size)?;
    let mut out = photo.clone();
    for ((o, g), &a) in out.pixels_mut().zip(generated.pixels()).zip(&mask.alpha) {
        if a > 0.0 {
            *o = blend(*o, *g, a);
        }
    }
    Ok(out)
}

/// The edited photo at the photo's own size: the generated image (model size) and the mask are
/// upscaled bilinearly to the part of the photo the model saw (its centred crop to the model's
/// aspect ratio), and blended in only where the upscaled mask is above 0. Every other pixel of
/// `photo` (outside the mask, and outside the crop) is kept bit for bit.
pub fn composite_full_size(
    photo: &RgbImage,
    generated: &RgbImage,
    mask: &EditMask,
) -> Result<RgbImage, EditError> {
    same_size(
        "generated image",
        generated.dimensions(),
        "edit mask",
        (mask.width, mask.height),
    )?;
    let (pw, ph) = photo.dimensions();
    let (cx, cy, cw, ch) =
        aspect_crop_rect(pw, ph, mask.width, mask.height).unwrap_or((0, 0, pw, ph));
    let mut out = photo.clone();
    if mask.is_empty() || cw == 0 || ch == 0 {
        return Ok(out);
    }
    let big_mask = mask.resized(cw, ch);
    let big = upscale(generated, cw, ch);
    for y in 0..ch {
        for x in 0..cw {
            let a = big_mask.alpha[(y * cw + x) as usize];
            if a > 0.0 {
                let p = out.get_pixel_mut(cx + x, cy + y);
                *p = blend(*p, *big.get_pixel(x, y), a);
            }
        }
    }
    Ok(out)
}

/// A photo being edited: the photo, the part of it the model sees at the model's size, and its
/// layout from the segmenter at the model's size.
#[derive(Debug, Clone)]
pub struct PhotoEdit {
    /// The photo as read, at its own size.
    pub photo: RgbImage,
    /// The photo as the model sees it: centre-cropped to its aspect, at its size.
    pub fitted: RgbImage,
    /// The photo's own layout at the model's size (what the user starts repainting from).
    pub original_layout: LabelMap,
}

impl PhotoEdit {
    /// `layout` is the segmenter's layout of `photo`; it is brought to the model's size
    /// (nearest neighbour, as a label map of the model's aspect is) when it is not.
    pub fn new(photo: RgbImage, layout: &LabelMap, width: u32, height: u32) -> PhotoEdit {
        let fitted = fit_photo(&photo, width, height).into_owned();
        PhotoEdit {
            original_layout: layout.resized_nearest(width, height),
            fitted,
            photo,
        }
    }

    /// The blend mask of an edited layout (at the model's size).
    pub fn mask(&self, edited: &LabelMap) -> Result<EditMask, EditError> {
        EditMask::from_layouts(&self.original_layout, edited)
    }

    /// The edited photo at the model's size.
    pub fn edited(&self, generated: &RgbImage, mask: &EditMask) -> Result<RgbImage, EditError> {
        composite(&self.fitted, generated, mask)
    }

    /// The edited photo at the photo's own size.
    pub fn edited_full_size(
        &self,
        generated: &RgbImage,
        mask: &EditMask,
    ) -> Result<RgbImage, EditError> {
        composite_full_size(&self.photo, generated, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute_d2(marked: &[bool], w: usize, h: usize, x: usize, y: usize) -> Option<u32> {
        (0..h)
            .flat_map(|yy| (0..w).map(move |xx| (xx, yy)))
            .filter(|&(xx, yy)| marked[yy * w + xx])
            .map(|(xx, yy)| (x.abs_diff(xx).pow(2) + y.abs_diff(yy).pow(2)) as u32)
            .min()
    }

    #[test]
    fn the_mask_is_solid_then_ramps_to_zero_at_the_dilation() {
        let (w, h) = (40u32, 30u32);
        let mut changed = vec![false; (w * h) as usize];
        changed[(15 * w + 20) as usize] = true;
        let mask = EditMask::from_changed(&changed, w, h);
        let a = |x: u32, y: u32| mask.alpha()[(y * w + x) as usize];
        assert_eq!(a(20, 15), 1.0);
        assert_eq!(a(22, 15), 1.0);
        assert!(a(23, 15) < 1.0 && a(23, 15) > a(24, 15));
        assert!((a(26, 15) - 0.2).abs() < 1e-6, "{}", a(26, 15));
        assert_eq!(a(27, 15), 0.0);
        // Euclidean: (4, 4) is 5.66 away, inside; (5, 4) 6.4, outside.
        assert!(a(24, 19) > 0.0);
        assert_eq!(a(25, 19), 0.0);
        assert_eq!(mask.changed_pixels(), 1);
        assert_eq!(mask.covered_pixels(), 113); // lattice points within radius 6
        let img = mask.to_image();
        assert_eq!(img.get_pixel(20, 15).0, [255]);
        assert_eq!(img.get_pixel(0, 0).0, [0]);
        assert!(EditMask::from_changed(&[false; 12], 4, 3).is_empty());
    }

    #[test]
    fn unchanged_pixels_are_the_photo_and_changed_ones_generated() {
        let mut original = LabelMap::new(32, 24, 1);
        for x in 0..32 {
            original.set(x, 20, 3);
        }
        let mut edited = original.clone();
        for y in 5..9 {
            for x in 10..14 {
                edited.set(x, y, 8);
            }
        }
        let photo = RgbImage::from_fn(32, 24, |x, y| Rgb([x as u8, y as u8, 200]));
        let generated = RgbImage::from_pixel(32, 24, Rgb([7, 7, 7]));
        let edit = PhotoEdit::new(photo.clone(), &original, 32, 24);
        let mask = edit.mask(&edited).expect("same size");
        assert_eq!(mask.changed_pixels(), 16);
        let out = edit.edited(&generated, &mask).expect("same size");
        for (x, y, p) in out.enumerate_pixels() {
            let a = mask.alpha()[(y * 32 + x) as usize];
            if a == 0.0 {
                assert_eq!(p, photo.get_pixel(x, y));
            } else if a == 1.0 {
                assert_eq!(p.0, [7, 7, 7]);
            } else {
                assert_ne!(p, photo.get_pixel(x, y), "blended at ({x}, {y})");
            }
        }
        assert_eq!(out.get_pixel(11, 6).0, [7, 7, 7]);
        assert_eq!(out.get_pixel(0, 0), photo.get_pixel(0, 0));
        // Unchanged layout: the photo itself.
        let none = edit.mask(&original).expect("same size");
        assert!(none.is_empty());
        assert_eq!(edit.edited(&generated, &none).expect("same"), photo);
        assert_eq!(
            edit.edited_full_size(&generated, &none).expect("same"),
            photo
        );
        // Sizes must agree.
        let err = EditMask::from_layouts(&original, &LabelMap::new(16, 12, 1)).expect_err("size");
        assert!(err.to_string().contains("16x12"), "{err}");
        let err = composite(&RgbImage::new(8, 8), &generated, &mask).expect_err("size");
        assert!(err.to_string().contains("photo is 8x8"), "{err}");
    }

    #[test]
    fn full_size_keeps_the_crop_outside_and_scales_the_edit_inside() {
        // A 4:3 model (32x24) and a wide 100x50 photo: the model sees the centred 67x50.
        let photo = RgbImage::from_fn(100, 50, |x, y| Rgb([x as u8, y as u8, (x ^ y) as u8]));
        let (cx, _, cw, ch) = aspect_crop_rect(100, 50, 32, 24).expect("cropped");
        assert_eq!((cx, cw, ch), (16, 67, 50));
        let original = LabelMap::new(32, 24, 0);
        let mut edited = original.clone();
        for y in 10..14 {
            for x in 14..18 {
                edited.set(x, y, 5);
            }
        }
        let edit = PhotoEdit::new(photo.clone(), &original, 32, 24);
        assert_eq!(edit.fitted.dimensions(), (32, 24));
        let mask = edit.mask(&edited).expect("mask");
        let generated = RgbImage::from_pixel(32, 24, Rgb([255, 0, 255]));
        let out = edit.edited_full_size(&generated, &mask).expect("full");
        assert_eq!(out.dimensions(), (100, 50));
        let big = mask.resized(cw, ch);
        let mut changed = 0;
        for (x, y, p) in out.enumerate_pixels() {
            let inside = x >= cx && x < cx + cw;
            let a = if inside {
                big.alpha()[(y * cw + x - cx) as usize]
            } else {
                0.0
            };
            if a == 0.0 {
                assert_eq!(p, photo.get_pixel(x, y), "({x}, {y})");
            } else {
                changed += 1;
            }
        }
        // The centre of the edit is the generated colour.
        assert_eq!(out.get_pixel(cx + cw / 2, ch / 2).0, [255, 0, 255]);
        // About the dilated area scaled by (67/32)^2.
        let expected = mask.covered_pixels() as f64 * (67.0 / 32.0) * (50.0 / 24.0);
        assert!(
            (changed as f64) > 0.8 * expected && (changed as f64) < 1.5 * expected,
            "{changed} vs {expected}"
        );
    }

    #[test]
    fn upscaling_aligns_pixel_centres() {
        let img = RgbImage::from_fn(2, 1, |x, _| Rgb([if x == 0 { 0 } else { 200 }; 3]));
        let up = upscale(&img, 4, 1);
        let row: Vec<u8> = up.pixels().map(|p| p.0[0]).collect();
        assert_eq!(row, [0, 50, 150, 200]);
        assert_eq!(upscale(&img, 2, 1), img);
    }

    proptest! {
        #[test]
        fn distances_are_exact_within_the_radius(
            w in 1usize..20, h in 1usize..20, seed in any::<u64>(), radius in 0u32..8
        ) {
            let marked: Vec<bool> = (0..w * h)
                .map(|i| (seed.rotate_left(i as u32 % 64) ^ (i as u64 * 0x9E37_79B9)).is_multiple_of(23))
                .collect();
            let d2 = squared_distance_within(&marked, w as u32, h as u32, radius);
            for y in 0..h {
                for x in 0..w {
                    let want = brute_d2(&marked, w, h, x, y)
                        .filter(|&d| d <= radius * radius)
                        .unwrap_or(u32::MAX);
                    prop_assert_eq!(d2[y * w + x], want, "({}, {})", x, y);
                }
            }
        }

        /// The guarantee of photo editing: no pixel outside the dilated mask changes, at the
        /// model's size and at the photo's own size.
        #[test]
        fn no_pixel_outside_the_dilated_mask_changes(
            w in 8u32..40, h in 8u32..40,
            edits in proptest::collection::vec((0u32..40, 0u32..40, 1u32..6, 1u32..6, 0u8..12), 0..4),
            pw in 8u32..90, ph in 8u32..90, seed in any::<u32>(),
        ) {
            let noise = |x: u32, y: u32, k: u32| {
                (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663) ^ k.wrapping_mul(83_492_791) ^ seed) as u8
            };
            let original = LabelMap::from_raw(w, h, (0..w * h).map(|i| noise(i, 0, 1) % 4).collect())
                .expect("size");
            let mut edited = original.clone();
            for &(x0, y0, ew, eh, class) in &edits {
                for y in y0..(y0 + eh).min(h) {
                    for x in x0..(x0 + ew).min(w) {
                        edited.set(x, y, class);
                    }
                }
            }
            let photo = RgbImage::from_fn(pw, ph, |x, y| Rgb([noise(x, y, 2), noise(x, y, 3), noise(x, y, 4)]));
            let generated = RgbImage::from_fn(w, h, |x, y| Rgb([noise(x, y, 5), noise(x, y, 6), noise(x, y, 7)]));
            let edit = PhotoEdit::new(photo.clone(), &original, w, h);
            let mask = edit.mask(&edited).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let changed: Vec<bool> = original.data().iter().zip(edited.data()).map(|(a, b)| a != b).collect();
            let dilated: Vec<bool> = (0..h)
                .flat_map(|y| (0..w).map(move |x| (x, y)))
                .map(|(x, y)| brute_d2(&changed, w as usize, h as usize, x as usize, y as usize)
                    .is_some_and(|d| d <= DILATE_PX * DILATE_PX))
                .collect();
            let near = |x: u32, y: u32| dilated[(y * w + x) as usize];

            let out = edit.edited(&generated, &mask).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (x, y, p) in out.enumerate_pixels() {
                if !near(x, y) {
                    prop_assert_eq!(p, edit.fitted.get_pixel(x, y), "model size ({}, {})", x, y);
                }
                if changed[(y * w + x) as usize] {
                    prop_assert_eq!(p, generated.get_pixel(x, y));
                }
            }

            // Full size: a pixel may change only if one of the model-size pixels it is
            // interpolated from is within the dilated mask.
            let full = edit.edited_full_size(&generated, &mask).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(full.dimensions(), (pw, ph));
            let (cx, cy, cw, ch) = aspect_crop_rect(pw, ph, w, h).unwrap_or((0, 0, pw, ph));
            let (xs, ys) = (taps(w, cw), taps(h, ch));
            for (x, y, p) in full.enumerate_pixels() {
                let inside = x >= cx && x < cx + cw && y >= cy && y < cy + ch;
                let may_change = inside && {
                    let (x0, x1, _) = xs[(x - cx) as usize];
                    let (y0, y1, _) = ys[(y - cy) as usize];
                    [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
                        .iter()
                        .any(|&(sx, sy)| near(sx as u32, sy as u32))
                };
                if !may_change {
                    prop_assert_eq!(p, photo.get_pixel(x, y), "full size ({}, {})", x, y);
                }
            }
        }
    }
}
