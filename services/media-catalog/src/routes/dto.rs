//! What the watchlist, favorites and library routes answer with.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use common::error::{ErrorBody, ErrorEnvelope};
use common::pagination::PageMeta;

use crate::db::models::{LibraryMovie, SavedTitle};
use crate::domain::params::DEFAULT_POSTER_SIZE;
use crate::domain::MediaType;

/// A title on the watchlist or among the favorites, as saved (no TMDB call).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedTitleDto {
    pub id: Uuid,
    pub tmdb_id: i64,
    pub media_type: MediaType,
    pub title: String,
    pub poster_path: Option<String>,
    pub poster_url: Option<String>,
    pub added_at: DateTime<Utc>,
}

impl SavedTitleDto {
    pub fn new(row: SavedTitle, image_base: &str) -> Self {
        Self {
            id: row.id,
            tmdb_id: row.tmdb_id,
            media_type: MediaType::parse(&row.media_type).unwrap_or(MediaType::Movie),
            poster_url: row
                .poster_path
                .as_ref()
                .map(|p| format!("{image_base}/{DEFAULT_POSTER_SIZE}{p}")),
            poster_path: row.poster_path,
            title: row.title,
            added_at: row.added_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SavedTitlePage {
    pub items: Vec<SavedTitleDto>,
    pub meta: PageMeta,
}

/// Where an uploaded poster is served, per size.
#[derive(Debug, Serialize, ToSchema)]
pub struct PosterUrls {
    pub original: String,
    pub w92: String,
    pub w342: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PosterDto {
    /// Of the original; thumbnails are JPEG, or PNG when the image has transparency.
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub urls: PosterUrls,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryMovieDto {
    pub id: Uuid,
    pub title: String,
    pub year: i32,
    pub image_url: Option<String>,
    /// The uploaded poster, if any.
    pub poster: Option<PosterDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<LibraryMovie> for LibraryMovieDto {
    fn from(row: LibraryMovie) -> Self {
        let base = format!("/api/library/movies/{}/poster", row.id);
        let poster = match (row.poster_content_type, row.poster_width, row.poster_height) {
            (Some(content_type), Some(width), Some(height)) => Some(PosterDto {
                content_type,
                width,
                height,
                urls: PosterUrls {
                    original: format!("{base}?size=original"),
                    w92: format!("{base}?size=w92"),
                    w342: format!("{base}?size=w342"),
                },
            }),
            _ => None,
        };
        Self {
            id: row.id,
            title: row.title,
            year: row.year,
            image_url: row.image_url,
            poster,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LibraryPage {
    pub items: Vec<LibraryMovieDto>,
    pub meta: PageMeta,
}
