//! Label-map PNGs: class ids (grayscale or palette) or colour-coded (RGB/RGBA in the model's
//! class colours).

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

/// The most memory one decoded image may take: the image crate's default allocation limit,
/// which is what photos are read with (`image::load_from_memory`).
pub const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// The most pixels a label map may declare: decoded as 8-bit RGBA (the widest format read) it
/// stays within [`MAX_DECODED_BYTES`], like a photo. That is 16384x8192; label maps in practice
/// have a few megapixels (CamVid 960x720, Cityscapes 2048x1024).
pub const MAX_LABEL_PIXELS: u64 = MAX_DECODED_BYTES / 4;

/// What the png decoder may allocate on its own (metadata chunks, row buffers): a label map
/// needs little, and a crafted text or ICC chunk must not take more.
const DECODER_BYTES: usize = 16 * 1024 * 1024;

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
    /// Grayscale: each value is a class id.
    Ids(LabelMap),
    /// Palette indices with the palette's colours and alpha values (tRNS; entries it does not
    /// list are opaque).
    Indexed {
        indices: LabelMap,
        palette: Vec<[u8; 3]>,
        alpha: Vec<u8>,
    },
    /// 8-bit RGB or RGBA rows as decoded (`channels` bytes a pixel).
    Colors {
        width: u32,
        height: u32,
        channels: usize,
        line_size: usize,
        buf: Vec<u8>,
    },
}

/// Fails unless `path` names a file: a missing path and a folder get their own messages (a
/// folder can be opened on Unix and would fail later with a confusing one).
pub fn check_input_file(path: &Path) -> Result<(), IoError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(IoError::Folder(path.to_path_buf())),
        Ok(_) => Ok(()),
        Err(e) => Err(IoError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// The one decoder of every label-map path (GUI, CLI, session restore): checks the declared size
/// and format before allocating the pixels.
fn decode(path: &Path) -> Result<Decoded, IoError> {
    check_input_file(path)?;
    let file = std::fs::File::open(path).map_err(|e| IoError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let decode_err = |e: &dyn std::fmt::Display| IoError::Decode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let unsupported = |what: String| IoError::UnsupportedLabelFormat {
        path: path.to_path_buf(),
        what,
    };
    let mut decoder = png::Decoder::new_with_limits(
        BufReader::new(file),
        png::Limits {
            bytes: DECODER_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::IDENTITY);
    // The header alone: a few bytes can declare gigapixels.
    let header = decoder.read_header_info().map_err(|e| decode_err(&e))?;
    let (width, height) = (header.width, header.height);
    if u64::from(width) * u64::from(height) > MAX_LABEL_PIXELS {
        return Err(IoError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
        });
    }
    use png::ColorType::*;
    let (color, bits) = (header.color_type, header.bit_depth as u8);
    match (color, bits) {
        (Grayscale | Indexed, 1 | 2 | 4 | 8) | (Rgb | Rgba, 8) => {}
        (ct, b) => return Err(unsupported(format!("{ct:?} {b}-bit"))),
    }
    let mut reader = decoder.read_info().map_err(|e| decode_err(&e))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| decode_err(&"the image is too large"))?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| decode_err(&e))?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    if color == Rgb || color == Rgba {
        let channels = if color == Rgb { 3 } else { 4 };
        if frame.line_size < w * channels || buf.len() < frame.line_size * h {
            return Err(decode_err(&"truncated image data"));
        }
        return Ok(Decoded::Colors {
            width: frame.width,
            height: frame.height,
            channels,
            line_size: frame.line_size,
            buf,
        });
    }
    let mut ids = Vec::with_capacity(w * h);
    for row in buf.chunks(frame.line_size.max(1)).take(h) {
        unpack(row, bits, w, &mut ids);
    }
    let map = LabelMap::from_raw(frame.width, frame.height, ids)
        .ok_or_else(|| decode_err(&"truncated image data"))?;
    if color == Grayscale {
        return Ok(Decoded::Ids(map));
    }
    let info = reader.info();
    let palette = info
        .palette
        .as_deref()
        .unwrap_or_default()
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let alpha = info.trns.as_deref().unwrap_or_default().to_vec();
    Ok(Decoded::Indexed {
        indices: map,
        palette,
        alpha,
    })
}

fn top_counts<K: Copy + Ord + std::hash::Hash>(counts: HashMap<K, u64>) -> (Vec<(K, u64)>, usize) {
    let total = counts.len();
    let mut v: Vec<(K, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(LIST_LIMIT);
    (v, total)
}

/// Class ids as read: unknown ids are an error; 255 becomes the don't-care class.
fn check_ids(
    path: &Path,
    mut map: LabelMap,
    n: usize,
    dontcare: Option<u8>,
) -> Result<LabelMap, IoError> {
    let hist = map.histogram();
    let map_ignore = dontcare.filter(|_| n <= IGNORE_ID as usize);
    let unknown: HashMap<u8, u64> = hist
        .iter()
        .enumerate()
        .filter(|&(id, &c)| c > 0 && id >= n && !(id == IGNORE_ID as usize && map_ignore.is_some()))
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

/// Class index by colour (the first class of a colour wins).
fn colour_lookup(classes: &[ClassInfo]) -> HashMap<[u8; 3], u8> {
    let mut lookup = HashMap::new();
    for (i, c) in classes.iter().enumerate() {
        lookup.entry(c.color).or_insert(i as u8);
    }
    lookup
}

/// A palette PNG's class ids. Whichever way it was written, the colours a viewer shows are what
/// the user sees, so they decide:
/// - every used colour is a class colour: read by colour (a colour-coded layout re-saved as a
///   palette PNG by an optimiser, whose indices are arbitrary; an id map whose palette is the
///   class colours reads the same either way);
/// - every used colour is a gray: the gray level is the id, as in a grayscale PNG (an optimised
///   grayscale id map; an identity gray palette gives level == index, and takes precedence
///   over the rule above);
/// - otherwise the palette is unrelated to the classes and the index is the id (VOC-style
///   maps) unless an index is drawn in another class's colour, which cannot be resolved.
///
/// Fully transparent entries (tRNS) are the don't-care class, as in RGBA maps.
fn palette_ids(
    path: &Path,
    indices: LabelMap,
    palette: &[[u8; 3]],
    alpha: &[u8],
    classes: &[ClassInfo],
    dontcare: Option<u8>,
) -> Result<LabelMap, IoError> {
    let n = classes.len();
    let hist = indices.histogram();
    let lookup = colour_lookup(classes);
    let transparent = |i: usize| alpha.get(i) == Some(&0);
    let opaque: Vec<usize> = (0..256)
        .filter(|&i| hist[i] > 0 && !(dontcare.is_some() && transparent(i)))
        .collect();
    let colour = |i: usize| palette.get(i).copied();
    let class_of = |i: usize| colour(i).and_then(|c| lookup.get(&c).copied());
    let is_gray = |i: usize| colour(i).is_some_and(|[r, g, b]| r == g && g == b);

    // A whole palette of gray levels 0, 1, 2, ... is a grayscale id map stored as palette, even
    // when the few levels used happen to be class colours (CamVid's void is black).
    let identity = palette.len() > 1 && (0..palette.len()).all(|i| palette[i] == [i as u8; 3]);
    let mut lut: [u8; 256] = std::array::from_fn(|i| i as u8);
    if !identity && opaque.iter().all(|&i| class_of(i).is_some()) {
        for &i in &opaque {
            lut[i] = class_of(i).unwrap_or(lut[i]);
        }
    } else if opaque.iter().all(|&i| is_gray(i)) {
        for &i in &opaque {
            lut[i] = colour(i).map_or(lut[i], |c| c[0]);
        }
    } else {
        // Index 255 is the don't-care id by convention, whatever its colour.
        let ignore = dontcare.is_some() && n <= IGNORE_ID as usize;
        let clashes: HashMap<(u8, u8), u64> = opaque
            .iter()
            .filter(|&&i| !(ignore && i == IGNORE_ID as usize))
            .filter_map(|&i| {
                class_of(i)
                    .filter(|&k| usize::from(k) != i)
                    .map(|k| ((i as u8, k), hist[i]))
            })
            .collect();
        if !clashes.is_empty() {
            let stray: HashMap<[u8; 3], u64> = opaque
                .iter()
                .filter(|&&i| class_of(i).is_none())
                .filter_map(|&i| colour(i).map(|c| (c, hist[i])))
                .fold(HashMap::new(), |mut m, (c, k)| {
                    *m.entry(c).or_default() += k;
                    m
                });
            let (clashes, clash_count) = top_counts(clashes);
            let (stray, stray_count) = top_counts(stray);
            let detail = clashes
                .iter()
                .map(|&((i, k), count)| {
                    let name = classes.get(usize::from(k)).map_or("", |c| c.name.as_str());
                    format!(
                        "index {i} is drawn in the colour of class {k} {name} ({count} pixel{})",
                        if count == 1 { "" } else { "s" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(IoError::PaletteConflict {
                path: path.to_path_buf(),
                detail: format!("{detail}{}", super::more(clashes.len(), clash_count)),
                stray,
                stray_distinct: stray_count,
            });
        }
    }
    if let Some(d) = dontcare {
        for i in (0..256).filter(|&i| transparent(i)) {
            lut[i] = d;
        }
    }
    let (w, h) = (indices.width(), indices.height());
    let ids = indices
        .into_raw()
        .into_iter()
        .map(|i| lut[usize::from(i)])
        .collect();
    let map = LabelMap::from_raw(w, h, ids).ok_or_else(|| IoError::Decode {
        path: path.to_path_buf(),
        message: "truncated image data".into(),
    })?;
    check_ids(path, map, n, dontcare)
}

/// Reads a label map PNG for a model with these classes. Grayscale PNGs hold class ids
/// (255 is read as `dontcare`); colour PNGs must use exactly the class colours (fully
/// transparent pixels are read as `dontcare`); palette PNGs are read by their colours when
/// those are class colours, else by index (see [`palette_ids`]). The map keeps the file's size;
/// see [`fit_label_map`]. Files declaring more than [`MAX_LABEL_PIXELS`] are refused unread.
pub fn load_label_png(
    path: &Path,
    classes: &[ClassInfo],
    dontcare: Option<u8>,
) -> Result<LabelMap, IoError> {
    match decode(path)? {
        Decoded::Ids(map) => check_ids(path, map, classes.len(), dontcare),
        Decoded::Indexed {
            indices,
            palette,
            alpha,
        } => palette_ids(path, indices, &palette, &alpha, classes, dontcare),
        Decoded::Colors {
            width,
            height,
            channels,
            line_size,
            buf,
        } => {
            let lookup = colour_lookup(classes);
            let mut unknown: HashMap<[u8; 3], u64> = HashMap::new();
            let mut ids = Vec::with_capacity(width as usize * height as usize);
            for row in buf.chunks(line_size).take(height as usize) {
                for px in row.chunks_exact(channels).take(width as usize) {
                    let (rgb, a) = ([px[0], px[1], px[2]], px.get(3).copied().unwrap_or(255));
                    let id = match (a, dontcare) {
                        (0, Some(d)) => Some(d),
                        _ => lookup.get(&rgb).copied(),
                    };
                    ids.push(id.unwrap_or_else(|| {
                        *unknown.entry(rgb).or_default() += 1;
                        0
                    }));
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

    /// Writes a palette PNG of `bits` per pixel (rows packed as PNG packs them).
    fn write_palette_png(
        path: &Path,
        (w, h): (u32, u32),
        bits: u8,
        indices: &[u8],
        palette: &[[u8; 3]],
        trns: Option<&[u8]>,
    ) {
        let mut packed = Vec::new();
        for row in indices.chunks(w as usize) {
            let mut bytes = vec![0u8; (w as usize * bits as usize).div_ceil(8)];
            for (x, &v) in row.iter().enumerate() {
                let bit = x * bits as usize;
                bytes[bit / 8] |= v << (8 - bits as usize - bit % 8);
            }
            packed.extend(bytes);
        }
        let file = std::fs::File::create(path).expect("create");
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(match bits {
            1 => png::BitDepth::One,
            2 => png::BitDepth::Two,
            4 => png::BitDepth::Four,
            _ => png::BitDepth::Eight,
        });
        enc.set_palette(palette.concat());
        if let Some(t) = trns {
            enc.set_trns(t.to_vec());
        }
        let mut writer = enc.write_header().expect("header");
        writer.write_image_data(&packed).expect("data");
        writer.finish().expect("finish");
    }

    fn colour(name: &str) -> [u8; 3] {
        meta()
            .classes
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.color)
            .expect("a CamVid class")
    }

    #[test]
    fn palette_pngs_in_class_colours_are_read_by_colour() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let meta = meta();
        let read =
            |name: &str| load_label_png(&tmp.path().join(name), &meta.classes, meta.dontcare);
        // 1 bit: road and car, as an optimiser numbers them (0 and 1 would be sky and building).
        write_palette_png(
            &tmp.path().join("p1.png"),
            (9, 2),
            1,
            &[0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1],
            &[colour("Road"), colour("Car")],
            None,
        );
        assert_eq!(
            read("p1.png").expect("1-bit").data(),
            [3, 8, 8, 3, 3, 3, 8, 3, 8, 8, 8, 8, 3, 3, 3, 3, 3, 8]
        );
        // 2 bits: four colours in no particular order.
        let pal = [
            colour("Car"),
            colour("Tree"),
            colour("Road"),
            colour("Building"),
        ];
        write_palette_png(
            &tmp.path().join("p2.png"),
            (5, 1),
            2,
            &[3, 2, 1, 0, 2],
            &pal,
            None,
        );
        assert_eq!(read("p2.png").expect("2-bit").data(), [1, 3, 5, 8, 3]);
        // 8 bits: the class colours in reverse order, and a transparent entry (don't care).
        let mut pal: Vec<[u8; 3]> = meta.classes.iter().rev().map(|c| c.color).collect();
        pal.push([1, 2, 3]);
        let mut alpha = vec![255u8; 12];
        alpha.push(0);
        let idx: Vec<u8> = (0..=12).collect();
        write_palette_png(
            &tmp.path().join("p8.png"),
            (13, 1),
            8,
            &idx,
            &pal,
            Some(&alpha),
        );
        let expected: Vec<u8> = (0..12).rev().chain([11]).collect();
        assert_eq!(read("p8.png").expect("8-bit").data(), expected);
    }

    #[test]
    fn palette_pngs_of_class_ids_are_read_by_index() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let meta = meta();
        let read =
            |name: &str| load_label_png(&tmp.path().join(name), &meta.classes, meta.dontcare);
        // Unrelated colours (no class colour, no gray): the index is the id.
        write_palette_png(
            &tmp.path().join("p1.png"),
            (3, 1),
            1,
            &[1, 0, 1],
            &[[10, 200, 30], [250, 5, 7]],
            None,
        );
        assert_eq!(read("p1.png").expect("1-bit").data(), [1, 0, 1]);
        write_palette_png(
            &tmp.path().join("p2.png"),
            (4, 1),
            2,
            &[0, 1, 2, 3],
            &[[10, 200, 30], [250, 5, 7], [9, 9, 90], [200, 100, 1]],
            None,
        );
        assert_eq!(read("p2.png").expect("2-bit").data(), [0, 1, 2, 3]);
        // Ids with the class colours as palette (as CamVid tools write them) and 255 for don't
        // care: both readings agree.
        let mut pal: Vec<[u8; 3]> = meta.classes.iter().map(|c| c.color).collect();
        pal.resize(256, [0, 0, 0]);
        write_palette_png(
            &tmp.path().join("p8.png"),
            (5, 1),
            8,
            &[0, 3, 8, 10, 255],
            &pal,
            None,
        );
        assert_eq!(read("p8.png").expect("8-bit").data(), [0, 3, 8, 10, 11]);
        // A gray palette: the gray level is the id (identity ramp, and a grayscale id map that
        // an optimiser stored as 2-bit palette with its own numbering).
        let ramp: Vec<[u8; 3]> = (0..=255u8).map(|v| [v, v, v]).collect();
        write_palette_png(
            &tmp.path().join("gray8.png"),
            (4, 1),
            8,
            &[0, 3, 8, 255],
            &ramp,
            None,
        );
        assert_eq!(read("gray8.png").expect("gray ramp").data(), [0, 3, 8, 11]);
        // Only level 0 used: black is also the void class's colour, but the ramp says ids.
        write_palette_png(&tmp.path().join("sky.png"), (2, 1), 8, &[0, 0], &ramp, None);
        assert_eq!(read("sky.png").expect("all sky").data(), [0, 0]);
        write_palette_png(
            &tmp.path().join("gray2.png"),
            (4, 1),
            2,
            &[0, 1, 2, 3],
            &[[0, 0, 0], [3, 3, 3], [8, 8, 8], [10, 10, 10]],
            None,
        );
        assert_eq!(
            read("gray2.png").expect("optimised gray").data(),
            [0, 3, 8, 10]
        );
        // Unknown ids are still named with their counts.
        write_palette_png(
            &tmp.path().join("unknown.png"),
            (3, 1),
            8,
            &[0, 40, 40],
            &[[10, 200, 30]; 41],
            None,
        );
        let msg = read("unknown.png").expect_err("id 40").to_string();
        assert!(
            msg.contains("unknown.png") && msg.contains("40 (2 pixels)"),
            "{msg}"
        );
    }

    #[test]
    fn a_palette_at_odds_with_its_indices_is_an_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("odd.png");
        // Index 0 is drawn in the car's colour, index 1 in a colour of no class: neither
        // reading fits the whole file.
        write_palette_png(
            &path,
            (3, 1),
            2,
            &[0, 0, 1],
            &[colour("Car"), [1, 2, 3]],
            None,
        );
        let meta = meta();
        let msg = load_label_png(&path, &meta.classes, meta.dontcare)
            .expect_err("conflict")
            .to_string();
        assert!(msg.contains("odd.png"), "{msg}");
        assert!(
            msg.contains("index 0 is drawn in the colour of class 8 Car (2 pixels)"),
            "{msg}"
        );
        assert!(msg.contains("#010203 (1 pixel)"), "{msg}");
        assert!(msg.contains("8-bit grayscale PNG of class ids"), "{msg}");
    }

    /// A PNG that declares `w` x `h` 8-bit RGBA pixels but holds almost no data.
    fn png_declaring(w: u32, h: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend((data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend(kind);
            out.extend(data);
            let mut crc = !0u32;
            for &b in &out[start..] {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            out.extend((!crc).to_be_bytes());
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend(w.to_be_bytes());
        ihdr.extend(h.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, no interlace
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01");
        chunk(&mut png, b"IEND", b"");
        png
    }

    #[test]
    fn a_huge_declared_size_is_refused_before_decoding() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("huge.png");
        let bytes = png_declaring(60_000, 60_000);
        assert!(bytes.len() < 100, "{} bytes", bytes.len());
        std::fs::write(&path, &bytes).expect("write");
        let meta = meta();
        let start = std::time::Instant::now();
        let err = load_label_png(&path, &meta.classes, meta.dontcare).expect_err("too large");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        assert!(matches!(err, IoError::TooLarge { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("huge.png") && msg.contains("60000x60000"),
            "{msg}"
        );
        assert!(
            msg.contains("3600 megapixels") && msg.contains("at most 134"),
            "{msg}"
        );
        // The limit is the photo's: the image crate's default allocation limit, as RGBA.
        assert_eq!(
            image::Limits::default().max_alloc,
            Some(MAX_DECODED_BYTES),
            "photos are read with another limit now; state it once again"
        );
        // One row over the limit is refused too.
        let over = png_declaring(16384, 8193);
        std::fs::write(&path, over).expect("write");
        let err = load_label_png(&path, &meta.classes, meta.dontcare).expect_err("over");
        assert!(matches!(err, IoError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn a_folder_is_named_as_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("layouts.png");
        std::fs::create_dir(&dir).expect("mkdir");
        let meta = meta();
        let msg = load_label_png(&dir, &meta.classes, meta.dontcare)
            .expect_err("a folder")
            .to_string();
        assert!(msg.contains("layouts.png is a folder"), "{msg}");
        assert!(msg.contains("pick a file"), "{msg}");
        assert!(!msg.contains("does not exist"), "{msg}");
    }
}
