//! Label-map PNGs: class ids (8-bit grayscale or palette) or colour-coded (RGB/RGBA in the
//! model's class colours).

use std::collections::HashMap;
use std::io::BufReader;
use std::path::Path;

use image::ImageEncoder;
use image::codecs::png::PngEncoder;

use super::{IoError, atomic_write};
use crate::canvas::{LabelMap, Palette};
use crate::models::{ClassInfo, ModelMeta};

/// In class-id PNGs this value means "don't care" (COCO-Stuff convention) and is read as the
/// model's don't-care class when the model has one and no class 255.
pub const IGNORE_ID: u8 = 255;

/// How many unknown values an error lists.
const LIST_LIMIT: usize = 5;

fn unpack(row: &[u8], bits: u8, width: usize, out: &mut Vec<u8>) {
    if bits == 8 {
        out.extend_from_slice(&row[..width.min(row.len())]);
        return;
    }
    let per_byte = 8 / bits as usize;
    let mask = (1u8 << bits) - 1;
    for x in 0..width {
        let byte = row.get(x / per_byte).copied().unwrap_or(0);
        let shift = 8 - bits as usize * (x % per_byte + 1);
        out.push((byte >> shift) & mask);
    }
}

enum Decoded {
    Ids(LabelMap),
    Colors {
        width: u32,
        height: u32,
        rgba: Vec<[u8; 4]>,
    },
}

fn decode(path: &Path) -> Result<Decoded, IoError> {
    let file = std::fs::File::open(path).map_err(|e| IoError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let decode_err = |e: &dyn std::fmt::Display| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut decoder = png::Decoder::new(BufReader::new(file));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| decode_err(&e))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| decode_err(&"the image is too large"))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| decode_err(&e))?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let bits = frame.bit_depth as u8;
    let unsupported = |what: String| IoError::UnsupportedLabelFormat {
        path: path.to_path_buf(),
        what,
    };
    use png::ColorType::*;
    match (frame.color_type, bits) {
        (Grayscale | Indexed, 1 | 2 | 4 | 8) => {
            let mut ids = Vec::with_capacity(w * h);
            for row in buf.chunks(frame.line_size).take(h) {
                unpack(row, bits, w, &mut ids);
            }
            LabelMap::from_raw(frame.width, frame.height, ids)
                .map(Decoded::Ids)
                .ok_or_else(|| decode_err(&"truncated image data"))
        }
        (Rgb | Rgba, 8) => {
            let ch = if frame.color_type == Rgb { 3 } else { 4 };
            let mut rgba = Vec::with_capacity(w * h);
            for row in buf.chunks(frame.line_size).take(h) {
                for px in row.chunks_exact(ch).take(w) {
                    rgba.push([px[0], px[1], px[2], if ch == 4 { px[3] } else { 255 }]);
                }
            }
            if rgba.len() != w * h {
                return Err(decode_err(&"truncated image data"));
            }
            Ok(Decoded::Colors {
                width: frame.width,
                height: frame.height,
                rgba,
            })
        }
        (ct, b) => Err(unsupported(format!("{ct:?} {b}-bit"))),
    }
}

fn top_counts<K: Copy + Ord + std::hash::Hash>(counts: HashMap<K, u64>) -> (Vec<(K, u64)>, usize) {
    let total = counts.len();
    let mut v: Vec<(K, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(LIST_LIMIT);
    (v, total)
}

/// Reads a label map PNG for a model with these classes. Class-id PNGs (8-bit grayscale or
/// palette: the index is the class id) must use ids of `classes` (255 is read as `dontcare`);
/// colour PNGs must use exactly the class colours (fully transparent pixels are read as
/// `dontcare`). The map keeps the file's size; see [`fit_label_map`].
pub fn load_label_png(
    path: &Path,
    classes: &[ClassInfo],
    dontcare: Option<u8>,
) -> Result<LabelMap, IoError> {
    let n = classes.len();
    match decode(path)? {
        Decoded::Ids(mut map) => {
            let hist = map.histogram();
            let map_ignore = dontcare.filter(|_| n <= IGNORE_ID as usize);
            let unknown: HashMap<u8, u64> = hist
                .iter()
                .enumerate()
                .filter(|&(id, &c)| {
                    c > 0 && id >= n && !(id == IGNORE_ID as usize && map_ignore.is_some())
                })
                .map(|(id, &c)| (id as u8, c))
                .collect();
            if !unknown.is_empty() {
                let (values, distinct) = top_counts(unknown);
                return Err(IoError::UnknownIds {
                    path: path.to_path_buf(),
                    values,
                    distinct,
                    num_classes: n,
                });
            }
            if let Some(d) = map_ignore {
                map.replace(IGNORE_ID, d);
            }
            Ok(map)
        }
        Decoded::Colors {
            width,
            height,
            rgba,
        } => {
            let palette = Palette {
                colors: classes.iter().map(|c| c.color).collect(),
            };
            let mut lookup: HashMap<[u8; 3], u8> = HashMap::new();
            for (i, &c) in palette.colors.iter().enumerate() {
                lookup.entry(c).or_insert(i as u8);
            }
            let mut unknown: HashMap<[u8; 3], u64> = HashMap::new();
            let mut ids = Vec::with_capacity(rgba.len());
            for [r, g, b, a] in rgba {
                let id = match (a, dontcare) {
                    (0, Some(d)) => Some(d),
                    _ => lookup.get(&[r, g, b]).copied(),
                };
                match id {
                    Some(id) => ids.push(id),
                    None => {
                        *unknown.entry([r, g, b]).or_default() += 1;
                        ids.push(0);
                    }
                }
            }
            if !unknown.is_empty() {
                let (values, distinct) = top_counts(unknown);
                return Err(IoError::UnknownColors {
                    path: path.to_path_buf(),
                    values,
                    distinct,
                });
            }
            LabelMap::from_raw(width, height, ids).ok_or_else(|| IoError::Decode {
                path: path.to_path_buf(),
                message: "truncated image data".into(),
            })
        }
    }
}

/// Brings a label map to the model's size: nearest-neighbour scaling when the aspect ratio
/// matches (within 1%); otherwise an error (stretching would distort the scene and padding
/// would invent content), asking for a crop to the model's aspect.
pub fn fit_label_map(
    map: LabelMap,
    width: u32,
    height: u32,
    source: &Path,
) -> Result<LabelMap, IoError> {
    if map.width() == width && map.height() == height {
        return Ok(map);
    }
    let (w, h) = (u64::from(map.width()), u64::from(map.height()));
    let cross = (w * u64::from(height)) as f64;
    let model = (u64::from(width) * h) as f64;
    if w == 0 || h == 0 || (cross - model).abs() > 0.01 * model {
        return Err(IoError::AspectMismatch {
            path: source.to_path_buf(),
            got: (map.width(), map.height()),
            want: (width, height),
        });
    }
    Ok(map.resized_nearest(width, height))
}

/// [`load_label_png`] + [`fit_label_map`] for a model.
pub fn load_label_png_for(path: &Path, meta: &ModelMeta) -> Result<LabelMap, IoError> {
    let map = load_label_png(path, &meta.classes, meta.dontcare)?;
    fit_label_map(map, meta.width, meta.height, path)
}

fn png_error(e: image::ImageError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Saves class ids as an 8-bit grayscale PNG (atomic).
pub fn save_label_ids_png(path: &Path, map: &LabelMap, overwrite: bool) -> Result<(), IoError> {
    atomic_write(path, overwrite, |w| {
        PngEncoder::new(w)
            .write_image(
                map.data(),
                map.width(),
                map.height(),
                image::ExtendedColorType::L8,
            )
            .map_err(png_error)
    })
}

/// Saves the map in class colours as an RGB PNG (atomic).
pub fn save_label_color_png(
    path: &Path,
    map: &LabelMap,
    palette: &Palette,
    overwrite: bool,
) -> Result<(), IoError> {
    let rgb: Vec<u8> = map
        .data()
        .iter()
        .flat_map(|&id| palette.color(id))
        .collect();
    atomic_write(path, overwrite, |w| {
        PngEncoder::new(w)
            .write_image(
                &rgb,
                map.width(),
                map.height(),
                image::ExtendedColorType::Rgb8,
            )
            .map_err(png_error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelMeta;

    fn meta() -> ModelMeta {
        ModelMeta::from_json(&crate::models::meta_tests_json()).expect("valid")
    }

    fn sample_map() -> LabelMap {
        let mut m = LabelMap::new(8, 6, 0);
        for x in 0..8 {
            m.set(x, 5, 3);
            m.set(x, 4, 11);
        }
        m.set(2, 2, 8);
        m
    }

    #[test]
    fn ids_and_colours_round_trip() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let meta = meta();
        let m = sample_map();
        let ids = tmp.path().join("ids.png");
        let col = tmp.path().join("col.png");
        save_label_ids_png(&ids, &m, false).expect("save ids");
        save_label_color_png(&col, &m, &meta.palette(), false).expect("save colours");
        assert_eq!(
            load_label_png(&ids, &meta.classes, meta.dontcare).expect("ids"),
            m
        );
        assert_eq!(
            load_label_png(&col, &meta.classes, meta.dontcare).expect("colours"),
            m
        );
        // Never overwrite unless asked.
        let err = save_label_ids_png(&ids, &m, false).expect_err("exists");
        assert!(matches!(err, IoError::Exists(_)));
    }

    #[test]
    fn palette_png_indices_are_class_ids() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("pal.png");
        // A 4-bit palette PNG whose palette colours are unrelated to the model's.
        let (w, h) = (5u32, 2u32);
        let ids: [u8; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 11];
        let mut packed = Vec::new();
        for row in ids.chunks(w as usize) {
            let mut bytes = vec![0u8; (w as usize).div_ceil(2)];
            for (x, &v) in row.iter().enumerate() {
                bytes[x / 2] |= v << (4 - 4 * (x % 2));
            }
            packed.extend(bytes);
        }
        let file = std::fs::File::create(&path).expect("create");
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Four);
        enc.set_palette(
            (0..16u8)
                .flat_map(|i| [i * 10, 255 - i, i])
                .collect::<Vec<u8>>(),
        );
        let mut writer = enc.write_header().expect("header");
        writer.write_image_data(&packed).expect("data");
        writer.finish().expect("finish");
        let meta = meta();
        let m = load_label_png(&path, &meta.classes, meta.dontcare).expect("palette png");
        assert_eq!(m.data(), ids);
    }

    #[test]
    fn unknown_ids_are_named_with_counts() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("bad.png");
        let mut m = sample_map();
        for x in 0..5 {
            m.set(x, 0, 40);
        }
        m.set(7, 0, 12);
        m.set(6, 0, 255); // don't care: accepted
        save_label_ids_png(&path, &m, false).expect("save");
        let meta = meta();
        let err = load_label_png(&path, &meta.classes, meta.dontcare).expect_err("unknown ids");
        let msg = err.to_string();
        assert!(msg.contains("bad.png"), "{msg}");
        assert!(msg.contains("40 (5 pixels)"), "{msg}");
        assert!(msg.contains("12 (1 pixel)"), "{msg}");
        assert!(!msg.contains("255"), "{msg}");
        assert!(msg.contains("0..11"), "{msg}");

        // Without unknown ids, 255 becomes the don't-care class.
        m.set(7, 0, 1);
        for x in 0..5 {
            m.set(x, 0, 1);
        }
        save_label_ids_png(&path, &m, true).expect("save");
        let ok = load_label_png(&path, &meta.classes, meta.dontcare).expect("valid");
        assert_eq!(ok.get(6, 0), Some(11));
        // A model without a don't-care class rejects 255.
        let err = load_label_png(&path, &meta.classes, None).expect_err("255 unknown");
        assert!(err.to_string().contains("255 (1 pixel)"), "{err}");
    }

    #[test]
    fn unknown_colours_are_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("painted.png");
        let mut img = image::RgbImage::from_pixel(4, 3, image::Rgb([128, 64, 128])); // road
        img.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        img.put_pixel(1, 0, image::Rgb([255, 0, 0]));
        img.put_pixel(2, 0, image::Rgb([127, 64, 128])); // anti-aliased edge
        img.save(&path).expect("save");
        let meta = meta();
        let msg = load_label_png(&path, &meta.classes, meta.dontcare)
            .expect_err("unknown colours")
            .to_string();
        assert!(msg.contains("painted.png"), "{msg}");
        assert!(msg.contains("#ff0000 (2 pixels)"), "{msg}");
        assert!(msg.contains("#7f4080 (1 pixel)"), "{msg}");
        assert!(msg.contains("2 colours"), "{msg}");
    }

    #[test]
    fn transparent_pixels_are_dontcare_and_16_bit_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rgba.png");
        let mut img = image::RgbaImage::from_pixel(2, 2, image::Rgba([128, 0, 0, 255]));
        img.put_pixel(1, 1, image::Rgba([1, 2, 3, 0]));
        img.save(&path).expect("save");
        let meta = meta();
        let m = load_label_png(&path, &meta.classes, meta.dontcare).expect("rgba");
        assert_eq!(m.data(), [1, 1, 1, 11]);

        let path16 = tmp.path().join("deep.png");
        image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::new(2, 2)
            .save(&path16)
            .expect("save 16-bit");
        let msg = load_label_png(&path16, &meta.classes, meta.dontcare)
            .expect_err("16-bit")
            .to_string();
        assert!(msg.contains("deep.png") && msg.contains("8-bit"), "{msg}");

        let junk = tmp.path().join("junk.png");
        std::fs::write(&junk, b"definitely not a png").expect("write");
        let msg = load_label_png(&junk, &meta.classes, meta.dontcare)
            .expect_err("junk")
            .to_string();
        assert!(msg.contains("junk.png"), "{msg}");
        let msg = load_label_png(&tmp.path().join("missing.png"), &meta.classes, None)
            .expect_err("missing")
            .to_string();
        assert!(msg.contains("missing.png"), "{msg}");
    }

    #[test]
    fn fitting_to_the_model() {
        let p = Path::new("x.png");
        let m = LabelMap::new(480, 360, 3);
        let fitted = fit_label_map(m, 256, 192, p).expect("4:3 fits");
        assert_eq!((fitted.width(), fitted.height()), (256, 192));
        let err = fit_label_map(LabelMap::new(300, 300, 0), 256, 192, p).expect_err("square");
        let msg = err.to_string();
        assert!(
            msg.contains("300x300") && msg.contains("256x192") && msg.contains("x.png"),
            "{msg}"
        );
    }
}
