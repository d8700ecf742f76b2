use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{comments, user_stats, videos};
use crate::domain::Person;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = videos, check_for_backend(diesel::pg::Pg))]
pub struct Video {
    pub id: Uuid,
    pub author_issuer: String,
    pub author_subject: String,
    pub caption: String,
    pub hashtags: Vec<Option<String>>,
    pub status: String,
    pub failure_reason: Option<String>,
    pub source: String,
    /// A [`Media`].
    pub media: serde_json::Value,
    pub like_count: i64,
    pub comment_count: i64,
    pub view_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is known of a video's media, stored as JSON beside the video.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// Where an external video is hosted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An external video's poster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// An upload's original, as probed: its type, bytes and ETag (of its SHA-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Whether processing stored a poster and an HLS rendition.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub poster: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hls: bool,
}

pub struct MediaUrls {
    pub poster: Option<String>,
    pub stream: Option<String>,
    pub hls: Option<String>,
}

pub const READY: &str = "ready";

/// `videos.status = 'ready'` written into the SQL rather than bound: PostgreSQL
/// plans a prepared statement generically after its fifth run, and only a
/// literal lets that plan use the partial index of ready videos
/// (`videos_ready_idx`); bound, the following feed took a sequential scan of
/// every video (170 ms at a million, see the README's benchmarks).
pub fn is_ready() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("videos.status = 'ready'")
}
pub const PROCESSING: &str = "processing";
pub const FAILED: &str = "failed";
pub const EXTERNAL: &str = "external";
pub const UPLOAD: &str = "upload";

impl Video {
    pub fn author(&self) -> Person {
        Person {
            issuer: self.author_issuer.clone(),
            subject: self.author_subject.clone(),
        }
    }

    /// The media record; a record this version cannot read counts as empty.
    pub fn media(&self) -> Media {
        serde_json::from_value(self.media.clone()).unwrap_or_default()
    }

    /// Where clients fetch its media: an external video's own URLs, an upload's
    /// routes (under `base`, empty for gateway paths) once they exist.
    pub fn urls(&self, media: &Media, base: &str) -> MediaUrls {
        if self.source != UPLOAD {
            return MediaUrls {
                poster: media.poster_url.clone(),
                stream: media.url.clone(),
                hls: None,
            };
        }
        let at = |path: &str| format!("{base}/api/videos/{}/{path}", self.id);
        MediaUrls {
            poster: media.poster.then(|| at("poster.jpg")),
            stream: media.etag.is_some().then(|| at("stream")),
            hls: media.hls.then(|| at("hls/index.m3u8")),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.status == READY
    }

    /// Others see ready videos only; the author sees all of theirs.
    pub fn visible_to(&self, viewer: Option<&Person>) -> bool {
        self.is_ready() || viewer.is_some_and(|p| *p == self.author())
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments, check_for_backend(diesel::pg::Pg))]
pub struct Comment {
    pub id: Uuid,
    pub video_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author_issuer: String,
    pub author_subject: String,
    pub text: Option<String>,
    pub deleted: bool,
    pub reply_count: i64,
    pub like_count: i64,
    pub created_at: DateTime<Utc>,
}

impl Comment {
    pub fn author(&self) -> Person {
        Person {
            issuer: self.author_issuer.clone(),
            subject: self.author_subject.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Queryable, Selectable)]
#[diesel(table_name = user_stats, check_for_backend(diesel::pg::Pg))]
pub struct UserStats {
    pub issuer: String,
    pub subject: String,
    pub follower_count: i64,
    pub following_count: i64,
    pub video_count: i64,
    pub like_count: i64,
}
