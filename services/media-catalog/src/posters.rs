//! Library posters: the image type is read from the bytes (never from the client's
//! header), the image is decoded within limits, and the original plus two
//! thumbnails (w92, w342) are stored with `object_store`: a local folder by
//! default, an S3-compatible bucket when configured.

use std::io::Cursor;

use bytes::Bytes;
use common::storage::{Storage, StorageError};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Largest width or height, and largest pixel count (4096 x 4096), accepted: a
/// small file that claims huge dimensions (a decompression bomb) is refused from
/// its header, before anything is decoded.
const MAX_DIMENSION: u32 = 8192;
const MAX_PIXELS: u64 = 4096 * 4096;
/// The decoder's allocation ceiling: one RGBA image of `MAX_PIXELS`, plus slack.
const MAX_DECODE_BYTES: u64 = MAX_PIXELS * 4 + 8 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosterSize {
    Original,
    W92,
    W342,
}

impl PosterSize {
    pub const ACCEPTED: &'static [&'static str] = &["original", "w92", "w342"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "original" => Some(Self::Original),
            "w92" => Some(Self::W92),
            "w342" => Some(Self::W342),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::W92 => "w92",
            Self::W342 => "w342",
        }
    }
}

/// The image types a poster may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    /// Reads the type from the file's first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PosterError {
    #[error("the poster must be a PNG, JPEG or WebP image")]
    Unsupported,
    #[error("the image could not be read: {0}")]
    Unreadable(String),
    #[error(
        "the image is larger than {MAX_DIMENSION} pixels a side or {MAX_PIXELS} pixels in all"
    )]
    TooLarge,
}

/// An uploaded poster, ready to store.
pub struct ProcessedPoster {
    pub original: Bytes,
    pub kind: ImageKind,
    pub w92: Bytes,
    pub w342: Bytes,
    /// Thumbnails are JPEG, or PNG when the image has transparency.
    pub thumbnail_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// Hex SHA-256 prefix of the original.
    pub etag: String,
}

/// Checks, decodes and scales an upload. CPU-bound: run it on a blocking thread.
pub fn process(original: Bytes) -> Result<ProcessedPoster, PosterError> {
    let kind = ImageKind::sniff(&original).ok_or(PosterError::Unsupported)?;
    let limits = || {
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_DIMENSION);
        limits.max_image_height = Some(MAX_DIMENSION);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        limits
    };
    let mut header = ImageReader::with_format(Cursor::new(&original[..]), kind.format());
    header.limits(limits());
    let (width, height) = header.into_dimensions().map_err(|e| match e {
        image::ImageError::Limits(_) => PosterError::TooLarge,
        other => PosterError::Unreadable(other.to_string()),
    })?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PosterError::TooLarge);
    }
    let mut reader = ImageReader::with_format(Cursor::new(&original[..]), kind.format());
    reader.limits(limits());
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => PosterError::TooLarge,
        other => PosterError::Unreadable(other.to_string()),
    })?;
    let alpha = image.color().has_alpha();
    let thumbnail = |width: u32| -> Result<Bytes, PosterError> {
        let scaled = if image.width() > width {
            image.resize(width, u32::MAX, FilterType::Triangle)
        } else {
            image.clone()
        };
        encode(&scaled, alpha)
    };
    let digest = Sha256::digest(&original);
    Ok(ProcessedPoster {
        w92: thumbnail(92)?,
        w342: thumbnail(342)?,
        thumbnail_type: if alpha { "image/png" } else { "image/jpeg" },
        width: image.width(),
        height: image.height(),
        etag: digest[..12].iter().map(|b| format!("{b:02x}")).collect(),
        kind,
        original,
    })
}

fn encode(image: &DynamicImage, alpha: bool) -> Result<Bytes, PosterError> {
    let mut out = Vec::new();
    let result = if alpha {
        image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
    } else {
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&image.to_rgb8())
    };
    result.map_err(|e| PosterError::Unreadable(format!("thumbnail: {e}")))?;
    Ok(Bytes::from(out))
}

/// Where posters are kept.
#[derive(Clone)]
pub struct PosterStore {
    storage: Storage,
}

fn object_key(movie: Uuid, size: PosterSize) -> String {
    format!("library/{movie}/{}", size.as_str())
}

impl PosterStore {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    pub async fn save(&self, movie: Uuid, poster: &ProcessedPoster) -> Result<(), StorageError> {
        for (size, bytes) in [
            (PosterSize::Original, &poster.original),
            (PosterSize::W92, &poster.w92),
            (PosterSize::W342, &poster.w342),
        ] {
            self.storage
                .put(&object_key(movie, size), bytes.clone())
                .await?;
        }
        Ok(())
    }

    pub async fn load(&self, movie: Uuid, size: PosterSize) -> Result<Bytes, StorageError> {
        self.storage.get(&object_key(movie, size)).await
    }

    /// Removes every stored size; one that is already gone is not an error.
    pub async fn delete(&self, movie: Uuid) -> Result<(), StorageError> {
        for size in [PosterSize::Original, PosterSize::W92, PosterSize::W342] {
            self.storage.delete(&object_key(movie, size)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn png(width: u32, height: u32) -> Bytes {
        let img = RgbaImage::from_pixel(width, height, Rgba([200, 10, 10, 128]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        Bytes::from(out)
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(ImageKind::sniff(&png(2, 2)), Some(ImageKind::Png));
        assert_eq!(
            ImageKind::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
        assert_eq!(ImageKind::sniff(b"<svg"), None);
    }

    #[test]
    fn thumbnails_keep_the_aspect_ratio_and_transparency() {
        let poster = process(png(600, 900)).unwrap();
        assert_eq!((poster.width, poster.height), (600, 900));
        assert_eq!(poster.thumbnail_type, "image/png");
        let w92 = image::load_from_memory(&poster.w92).unwrap();
        assert_eq!((w92.width(), w92.height()), (92, 138));
        let w342 = image::load_from_memory(&poster.w342).unwrap();
        assert_eq!(w342.width(), 342);
    }

    #[test]
    fn opaque_images_get_jpeg_thumbnails() {
        let img = RgbImage::from_pixel(400, 600, Rgb([1, 2, 3]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        let poster = process(Bytes::from(out)).unwrap();
        assert_eq!(poster.kind, ImageKind::Jpeg);
        assert_eq!(poster.thumbnail_type, "image/jpeg");
        assert_eq!(ImageKind::sniff(&poster.w92), Some(ImageKind::Jpeg));
    }

    #[test]
    fn truncated_and_foreign_files_are_refused() {
        let mut truncated = png(50, 50).to_vec();
        truncated.truncate(40);
        assert!(matches!(
            process(Bytes::from(truncated)),
            Err(PosterError::Unreadable(_))
        ));
        assert_eq!(
            process(Bytes::from_static(b"GIF89a....")).err(),
            Some(PosterError::Unsupported)
        );
    }
}
