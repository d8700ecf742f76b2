//! Library posters: the original plus two thumbnails (w92, w342), made and
//! stored by `common::images` (type read from the bytes, decoding within
//! limits) under `library/<movie>` of `object_store`: a local folder by
//! default, an S3-compatible bucket when configured.

use bytes::Bytes;
use common::images::{ImageStore, ProcessedImage, Rendition};
use common::storage::{Storage, StorageError};
use uuid::Uuid;

/// The thumbnails' widths.
pub const THUMBNAIL_WIDTHS: &[u32] = &[92, 342];

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

    fn rendition(self) -> Rendition {
        match self {
            Self::Original => Rendition::Original,
            Self::W92 => Rendition::Width(92),
            Self::W342 => Rendition::Width(342),
        }
    }
}

/// Checks, decodes and scales an upload. CPU-bound: run it on a blocking thread.
pub fn process(original: Bytes) -> Result<ProcessedImage, common::images::ImageError> {
    common::images::process(original, THUMBNAIL_WIDTHS)
}

/// Where posters are kept.
#[derive(Clone)]
pub struct PosterStore {
    images: ImageStore,
}

fn prefix(movie: Uuid) -> String {
    format!("library/{movie}")
}

impl PosterStore {
    pub fn new(storage: Storage) -> Self {
        Self {
            images: ImageStore::new(storage),
        }
    }

    pub async fn save(&self, movie: Uuid, poster: &ProcessedImage) -> Result<(), StorageError> {
        self.images.save(&prefix(movie), poster).await
    }

    pub async fn load(&self, movie: Uuid, size: PosterSize) -> Result<Bytes, StorageError> {
        self.images.load(&prefix(movie), size.rendition()).await
    }

    /// Removes every stored size; one that is already gone is not an error.
    pub async fn delete(&self, movie: Uuid) -> Result<(), StorageError> {
        self.images.delete(&prefix(movie), THUMBNAIL_WIDTHS).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn every_size_is_a_stored_rendition() {
        for raw in PosterSize::ACCEPTED {
            let size = PosterSize::parse(raw).unwrap();
            assert_eq!(size.as_str(), *raw);
            assert_eq!(size.rendition().name(), *raw);
        }
        assert_eq!(PosterSize::parse("w500"), None);
    }
}
