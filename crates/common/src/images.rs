//! Uploaded pictures (library posters, product images): the type is read from
//! the bytes (never from the client's header), the image is decoded within
//! limits, and the original plus thumbnails of given widths (never upscaled,
//! aspect kept) are stored under one prefix of [`Storage`].

use std::io::Cursor;
use std::time::Duration;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::HttpRequest;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::RateLimitInfo;
use crate::storage::{multipart_error, Storage, StorageError};
use crate::ApiError;

/// Largest width or height, and largest pixel count (4096 x 4096), accepted: a
/// small file that claims huge dimensions (a decompression bomb) is refused from
/// its header, before anything is decoded.
pub const MAX_DIMENSION: u32 = 8192;
pub const MAX_PIXELS: u64 = 4096 * 4096;
/// The decoder's allocation ceiling: one RGBA image of `MAX_PIXELS`, plus slack.
const MAX_DECODE_BYTES: u64 = MAX_PIXELS * 4 + 8 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;
/// How long an upload waits for a decoding slot before it is refused (429).
const DECODE_WAIT: Duration = Duration::from_secs(2);

/// The image types accepted.
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

/// Why an upload is not an image that can be kept.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("the file must be a PNG, JPEG or WebP image")]
    Unsupported,
    #[error("the image could not be read: {0}")]
    Unreadable(String),
    #[error(
        "the image is larger than {MAX_DIMENSION} pixels a side or {MAX_PIXELS} pixels in all"
    )]
    TooLarge,
}

impl ImageError {
    /// In the envelope: 415 for a type that is not accepted, 422 on `field` for
    /// an image that cannot be decoded or is too large.
    pub fn into_api(self, field: &str) -> ApiError {
        match self {
            Self::Unsupported => ApiError::UnsupportedMediaType(self.to_string()),
            Self::Unreadable(_) | Self::TooLarge => ApiError::validation(field, &self.to_string()),
        }
    }
}

/// One stored version of an image: the original, or a thumbnail scaled to at
/// most `w` pixels wide. Stored as `<prefix>/original`, `<prefix>/w<w>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendition {
    Original,
    Width(u32),
}

impl Rendition {
    /// `original`, or `w<width>` for one of `widths`.
    pub fn parse(raw: &str, widths: &[u32]) -> Option<Self> {
        if raw == "original" {
            return Some(Self::Original);
        }
        let width: u32 = raw.strip_prefix('w')?.parse().ok()?;
        widths
            .contains(&width)
            .then_some(Self::Width(width))
            .filter(|_| raw == format!("w{width}"))
    }

    pub fn name(self) -> String {
        match self {
            Self::Original => "original".to_owned(),
            Self::Width(width) => format!("w{width}"),
        }
    }
}

/// An uploaded image, ready to store.
pub struct ProcessedImage {
    pub original: Bytes,
    pub kind: ImageKind,
    /// One per width asked for, in that order: (width asked for, bytes).
    pub thumbnails: Vec<(u32, Bytes)>,
    /// Thumbnails are JPEG, or PNG when the image has transparency.
    pub thumbnail_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// Hex SHA-256 prefix of the original: it names the content, so a strong
    /// `ETag` is made of it.
    pub etag: String,
}

impl ProcessedImage {
    /// The thumbnail `width` pixels wide, if it was made.
    pub fn thumbnail(&self, width: u32) -> Option<&Bytes> {
        self.thumbnails
            .iter()
            .find(|(w, _)| *w == width)
            .map(|(_, b)| b)
    }
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

fn decode_error(error: image::ImageError) -> ImageError {
    match error {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        other => ImageError::Unreadable(other.to_string()),
    }
}

/// Checks, decodes and scales an upload to each of `widths` (an image already
/// narrower keeps its size). CPU-bound: run it on a blocking thread.
pub fn process(original: Bytes, widths: &[u32]) -> Result<ProcessedImage, ImageError> {
    let kind = ImageKind::sniff(&original).ok_or(ImageError::Unsupported)?;
    let mut header = ImageReader::with_format(Cursor::new(&original[..]), kind.format());
    header.limits(limits());
    let (width, height) = header.into_dimensions().map_err(decode_error)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge);
    }
    let mut reader = ImageReader::with_format(Cursor::new(&original[..]), kind.format());
    reader.limits(limits());
    let image = reader.decode().map_err(decode_error)?;
    let alpha = image.color().has_alpha();
    let thumbnails = widths
        .iter()
        .map(|&width| {
            let scaled = if image.width() > width {
                image.resize(width, u32::MAX, FilterType::Triangle)
            } else {
                image.clone()
            };
            Ok((width, encode(&scaled, alpha)?))
        })
        .collect::<Result<_, ImageError>>()?;
    let digest = Sha256::digest(&original);
    Ok(ProcessedImage {
        thumbnails,
        thumbnail_type: if alpha { "image/png" } else { "image/jpeg" },
        width: image.width(),
        height: image.height(),
        etag: digest[..12].iter().map(|b| format!("{b:02x}")).collect(),
        kind,
        original,
    })
}

fn encode(image: &DynamicImage, alpha: bool) -> Result<Bytes, ImageError> {
    let mut out = Vec::new();
    let result = if alpha {
        image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
    } else {
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&image.to_rgb8())
    };
    result.map_err(|e| ImageError::Unreadable(format!("thumbnail: {e}")))?;
    Ok(Bytes::from(out))
}

/// Every decoding slot of the replica busy: come back shortly.
fn busy() -> ApiError {
    ApiError::RateLimited(RateLimitInfo {
        limit: 0,
        retry_after_secs: 2,
    })
}

/// [`process`] on the blocking pool, holding one of `slots` (decoding holds up
/// to 64 MiB per image, so a bounded number run at once per replica; 429 when
/// none frees up within 2 s). Errors are in the envelope, on `field`.
pub async fn process_upload(
    slots: &Semaphore,
    original: Bytes,
    widths: &[u32],
    field: &str,
) -> Result<ProcessedImage, ApiError> {
    let permit = tokio::time::timeout(DECODE_WAIT, slots.acquire())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    let widths = widths.to_vec();
    let processed = actix_web::web::block(move || process(original, &widths))
        .await
        .map_err(|e| ApiError::internal(format!("image processing: {e}")))?
        .map_err(|e| e.into_api(field));
    drop(permit);
    processed
}

/// The one-file form of an upload.
pub struct UploadForm<'a> {
    /// The field errors name (`poster`, `file`).
    pub field: &'a str,
    /// The names the file may be sent under.
    pub accepted: &'a [&'a str],
    /// Largest file, in bytes (413 beyond).
    pub max_bytes: usize,
}

/// Reads the file field, refusing more than `form.max_bytes` bytes (413), a
/// second file, and any other field (422: the form has one field; a client
/// sending more is mistaken). No file, or an empty one, is 422.
pub async fn read_upload(
    payload: &mut Multipart,
    form: &UploadForm<'_>,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "The {} must be at most {} MB",
            form.field,
            form.max_bytes / (1024 * 1024)
        ))
    };
    let mut file = None;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(multipart_error)?;
        let name = field.name().unwrap_or_default().to_owned();
        if !form.accepted.contains(&name.as_str()) {
            let names = form
                .accepted
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(ApiError::validation(
                form.field,
                &format!("the form takes one field, {names}, and nothing else"),
            ));
        }
        if file.is_some() {
            return Err(ApiError::validation(form.field, "send one file"));
        }
        let mut buffer = BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            if buffer.len() + chunk.len() > form.max_bytes {
                return Err(too_large());
            }
            buffer.extend_from_slice(&chunk);
        }
        file = Some(buffer.freeze());
    }
    file.filter(|f| !f.is_empty()).ok_or_else(|| {
        ApiError::validation(
            form.field,
            &format!("is required (a file field named {})", form.field),
        )
    })
}

/// Whether the request's `If-None-Match` names `etag` (or `*`): answer 304.
pub fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// Where images are kept: every rendition of one image under one prefix
/// (`library/<movie>`, `products/<product>/<image>`).
#[derive(Clone)]
pub struct ImageStore {
    storage: Storage,
}

fn object_key(prefix: &str, rendition: Rendition) -> String {
    format!("{prefix}/{}", rendition.name())
}

impl ImageStore {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    /// Stores the original and every thumbnail.
    pub async fn save(&self, prefix: &str, image: &ProcessedImage) -> Result<(), StorageError> {
        self.storage
            .put(
                &object_key(prefix, Rendition::Original),
                image.original.clone(),
            )
            .await?;
        for (width, bytes) in &image.thumbnails {
            self.storage
                .put(&object_key(prefix, Rendition::Width(*width)), bytes.clone())
                .await?;
        }
        Ok(())
    }

    pub async fn load(&self, prefix: &str, rendition: Rendition) -> Result<Bytes, StorageError> {
        self.storage.get(&object_key(prefix, rendition)).await
    }

    /// Removes the original and the thumbnails of `widths`; one that is already
    /// gone is not an error.
    pub async fn delete(&self, prefix: &str, widths: &[u32]) -> Result<(), StorageError> {
        self.storage
            .delete(&object_key(prefix, Rendition::Original))
            .await?;
        for width in widths {
            self.storage
                .delete(&object_key(prefix, Rendition::Width(*width)))
                .await?;
        }
        Ok(())
    }

    /// Removes every object under `prefix` (all the images of a product).
    pub async fn delete_all(&self, prefix: &str) -> Result<usize, StorageError> {
        self.storage.delete_prefix(prefix).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
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
    fn renditions_are_the_original_or_a_known_width() {
        let widths = [200, 600];
        assert_eq!(
            Rendition::parse("original", &widths),
            Some(Rendition::Original)
        );
        assert_eq!(
            Rendition::parse("w200", &widths),
            Some(Rendition::Width(200))
        );
        for bad in ["w300", "w0200", "w+200", "200", "", "W200"] {
            assert_eq!(Rendition::parse(bad, &widths), None, "{bad}");
        }
        assert_eq!(Rendition::Width(600).name(), "w600");
    }

    #[test]
    fn thumbnails_keep_the_aspect_ratio_and_transparency_and_never_upscale() {
        let image = process(png(600, 900), &[92, 342, 1000]).unwrap();
        assert_eq!((image.width, image.height), (600, 900));
        assert_eq!(image.thumbnail_type, "image/png");
        let w92 = image::load_from_memory(image.thumbnail(92).unwrap()).unwrap();
        assert_eq!((w92.width(), w92.height()), (92, 138));
        let w342 = image::load_from_memory(image.thumbnail(342).unwrap()).unwrap();
        assert_eq!(w342.width(), 342);
        let wide = image::load_from_memory(image.thumbnail(1000).unwrap()).unwrap();
        assert_eq!((wide.width(), wide.height()), (600, 900));
    }

    #[test]
    fn opaque_images_get_jpeg_thumbnails() {
        let img = RgbImage::from_pixel(400, 600, Rgb([1, 2, 3]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        let image = process(Bytes::from(out), &[92]).unwrap();
        assert_eq!(image.kind, ImageKind::Jpeg);
        assert_eq!(image.thumbnail_type, "image/jpeg");
        assert_eq!(
            ImageKind::sniff(image.thumbnail(92).unwrap()),
            Some(ImageKind::Jpeg)
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_refused() {
        let mut truncated = png(50, 50).to_vec();
        truncated.truncate(40);
        assert!(matches!(
            process(Bytes::from(truncated), &[92]),
            Err(ImageError::Unreadable(_))
        ));
        assert_eq!(
            process(Bytes::from_static(b"GIF89a...."), &[92]).err(),
            Some(ImageError::Unsupported)
        );
    }
}
