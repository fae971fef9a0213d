use serde::{Deserialize, Serialize};

/// Display colours of a model's classes; the index is the class id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Palette {
    pub colors: Vec<[u8; 3]>,
}

impl Palette {
    /// Colour of `class`; ids the palette does not know show as magenta so they stand out.
    pub fn color(&self, class: u8) -> [u8; 3] {
        self.colors
            .get(class as usize)
            .copied()
            .unwrap_or(UNKNOWN_CLASS_COLOR)
    }

    /// The class whose colour is exactly `rgb`.
    pub fn class_of(&self, rgb: [u8; 3]) -> Option<u8> {
        self.colors
            .iter()
            .position(|c| *c == rgb)
            .and_then(|i| u8::try_from(i).ok())
    }

    pub fn len(&self) -> usize {
        self.colors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.colors.is_empty()
    }
}

/// Colour used for class ids outside the palette.
pub const UNKNOWN_CLASS_COLOR: [u8; 3] = [255, 0, 255];

/// A semantic layout: one class id per pixel, row-major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelMap {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl LabelMap {
    pub fn new(width: u32, height: u32, fill: u8) -> Self {
        Self {
            width,
            height,
            data: vec![fill; width as usize * height as usize],
        }
    }

    /// Wraps row-major class ids; `None` when `data` does not hold `width * height` values.
    pub fn from_raw(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        (data.len() == width as usize * height as usize).then_some(Self {
            width,
            height,
            data,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.data
    }

    fn index(&self, x: u32, y: u32) -> Option<usize> {
        (x < self.width && y < self.height).then(|| y as usize * self.width as usize + x as usize)
    }

    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        self.index(x, y).map(|i| self.data[i])
    }

    /// Sets one pixel; coordinates outside the map are ignored.
    pub fn set(&mut self, x: u32, y: u32, v: u8) {
        if let Some(i) = self.index(x, y) {
            self.data[i] = v;
        }
    }

    pub fn fill(&mut self, v: u8) {
        self.data.fill(v);
    }

    /// Nearest-neighbour resize (class ids must never be blended).
    pub fn resized_nearest(&self, width: u32, height: u32) -> LabelMap {
        if width == self.width && height == self.height {
            return self.clone();
        }
        let mut out = LabelMap::new(width, height, 0);
        if self.width == 0 || self.height == 0 {
            return out;
        }
        // Sample at destination pixel centres, the same rule as torch's `nearest`.
        let xs: Vec<usize> = (0..width)
            .map(|x| {
                ((x as u64 * self.width as u64) / width as u64).min(self.width as u64 - 1) as usize
            })
            .collect();
        for y in 0..height {
            let sy = ((y as u64 * self.height as u64) / height as u64).min(self.height as u64 - 1)
                as usize;
            let src = &self.data[sy * self.width as usize..(sy + 1) * self.width as usize];
            let dst = &mut out.data[y as usize * width as usize..(y as usize + 1) * width as usize];
            for (d, &sx) in dst.iter_mut().zip(&xs) {
                *d = src[sx];
            }
        }
        out
    }

    pub fn to_color_image(&self, palette: &Palette) -> image::RgbaImage {
        let mut img = image::RgbaImage::new(self.width, self.height);
        for (px, &id) in img.pixels_mut().zip(&self.data) {
            let [r, g, b] = palette.color(id);
            *px = image::Rgba([r, g, b, 255]);
        }
        img
    }

    /// Pixel count per class id (index = id).
    pub fn histogram(&self) -> [u64; 256] {
        let mut h = [0u64; 256];
        for &v in &self.data {
            h[v as usize] += 1;
        }
        h
    }

    /// Replaces every pixel of class `from` with `to`.
    pub fn replace(&mut self, from: u8, to: u8) {
        for v in &mut self.data {
            if *v == from {
                *v = to;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_set_and_bounds() {
        let mut m = LabelMap::new(4, 3, 7);
        assert_eq!(m.get(3, 2), Some(7));
        assert_eq!(m.get(4, 0), None);
        assert_eq!(m.get(0, 3), None);
        m.set(1, 2, 3);
        m.set(10, 10, 3); // ignored
        assert_eq!(m.get(1, 2), Some(3));
        assert_eq!(m.data()[2 * 4 + 1], 3);
        assert_eq!(m.histogram()[7], 11);
        assert_eq!(m.histogram()[3], 1);
    }

    #[test]
    fn from_raw_checks_length() {
        assert!(LabelMap::from_raw(2, 2, vec![0; 3]).is_none());
        let m = LabelMap::from_raw(2, 2, vec![0, 1, 2, 3]).expect("4 values fit 2x2");
        assert_eq!(m.get(1, 1), Some(3));
    }

    #[test]
    fn nearest_resize_keeps_ids_and_blocks() {
        // 2x2 checker of ids scaled x3: every 3x3 block keeps its id, no new ids appear.
        let m = LabelMap::from_raw(2, 2, vec![1, 2, 3, 4]).expect("valid");
        let big = m.resized_nearest(6, 6);
        for y in 0..6 {
            for x in 0..6 {
                let want = m.get(x / 3, y / 3);
                assert_eq!(big.get(x, y), want, "pixel {x},{y}");
            }
        }
        // Downscale 480x360 -> 256x192 keeps only existing ids.
        let mut src = LabelMap::new(480, 360, 0);
        for y in 0..360 {
            for x in 240..480 {
                src.set(x, y, 5);
            }
        }
        let small = src.resized_nearest(256, 192);
        assert_eq!(small.get(127, 0), Some(0));
        assert_eq!(small.get(128, 191), Some(5));
        let h = small.histogram();
        assert_eq!(h[0] + h[5], 256 * 192);
    }

    #[test]
    fn color_image_uses_palette() {
        let palette = Palette {
            colors: vec![[1, 2, 3], [4, 5, 6]],
        };
        let m = LabelMap::from_raw(3, 1, vec![0, 1, 9]).expect("valid");
        let img = m.to_color_image(&palette);
        assert_eq!(img.get_pixel(0, 0).0, [1, 2, 3, 255]);
        assert_eq!(img.get_pixel(1, 0).0, [4, 5, 6, 255]);
        let [r, g, b] = UNKNOWN_CLASS_COLOR;
        assert_eq!(img.get_pixel(2, 0).0, [r, g, b, 255]);
        assert_eq!(palette.class_of([4, 5, 6]), Some(1));
        assert_eq!(palette.class_of([4, 5, 7]), None);
    }
}
