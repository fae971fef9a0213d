use std::path::Path;

use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;

use super::{IoError, atomic_write};

/// Image file formats for export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg { quality: u8 },
}

impl ImageFormat {
    pub const DEFAULT_JPEG_QUALITY: u8 = 92;

    /// From the file extension (.png, .jpg, .jpeg; any case).
    pub fn from_path(path: &Path) -> Result<ImageFormat, IoError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(ImageFormat::Png),
            Some("jpg" | "jpeg") => Ok(ImageFormat::Jpeg {
                quality: Self::DEFAULT_JPEG_QUALITY,
            }),
            _ => Err(IoError::UnknownExtension(path.to_path_buf())),
        }
    }
}

/// Saves an image in the format its extension names (atomic; JPEG drops alpha).
pub fn save_image(path: &Path, img: &image::RgbaImage, overwrite: bool) -> Result<(), IoError> {
    save_image_as(path, img, ImageFormat::from_path(path)?, overwrite)
}

/// Saves an image in `format` (atomic).
pub fn save_image_as(
    path: &Path,
    img: &image::RgbaImage,
    format: ImageFormat,
    overwrite: bool,
) -> Result<(), IoError> {
    let to_io = |e: image::ImageError| std::io::Error::other(e.to_string());
    match format {
        ImageFormat::Png => atomic_write(path, overwrite, |w| {
            PngEncoder::new(w)
                .write_image(
                    img.as_raw(),
                    img.width(),
                    img.height(),
                    image::ExtendedColorType::Rgba8,
                )
                .map_err(to_io)
        }),
        ImageFormat::Jpeg { quality } => {
            let rgb = image::DynamicImage::ImageRgba8(img.clone()).into_rgb8();
            atomic_write(path, overwrite, |w| {
                JpegEncoder::new_with_quality(w, quality.clamp(1, 100))
                    .write_image(
                        rgb.as_raw(),
                        rgb.width(),
                        rgb.height(),
                        image::ExtendedColorType::Rgb8,
                    )
                    .map_err(to_io)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            ImageFormat::from_path(Path::new("a.PNG")).ok(),
            Some(ImageFormat::Png)
        );
        assert!(matches!(
            ImageFormat::from_path(Path::new("a.jpeg")),
            Ok(ImageFormat::Jpeg { .. })
        ));
        let err = ImageFormat::from_path(Path::new("a.bmp")).expect_err("bmp");
        assert!(err.to_string().contains("a.bmp"), "{err}");
        assert!(ImageFormat::from_path(Path::new("noext")).is_err());
    }

    #[test]
    fn png_and_jpeg_round_trip() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let img = image::RgbaImage::from_fn(32, 16, |x, y| {
            image::Rgba([x as u8 * 8, y as u8 * 16, 100, 255])
        });
        let png = tmp.path().join("a.png");
        save_image(&png, &img, false).expect("png");
        let back = image::open(&png).expect("open").into_rgba8();
        assert_eq!(back, img);
        let jpg = tmp.path().join("a.jpg");
        save_image(&jpg, &img, false).expect("jpg");
        let back = image::open(&jpg).expect("open").into_rgb8();
        assert_eq!(back.dimensions(), (32, 16));
        let p = back.get_pixel(10, 5).0;
        assert!(
            (i32::from(p[0]) - 80).abs() < 12 && (i32::from(p[1]) - 80).abs() < 12,
            "{p:?}"
        );
        assert!(save_image(&jpg, &img, false).is_err());
        save_image(&jpg, &img, true).expect("overwrite allowed");
    }
}
