//! What the social routes answer with.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use common::error::{ErrorBody, ErrorEnvelope};

use crate::db::models::{Comment, Video};
use crate::directory::Profile;
use crate::domain::Person;

/// Who made something, with the directory's display data (`null` when the
/// directory does not know them or cannot be asked).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Author {
    /// The user's id (their token's subject).
    pub id: String,
    pub name: Option<String>,
    pub image_url: Option<String>,
}

impl Author {
    pub fn new(person: &Person, profile: Option<&Profile>) -> Self {
        Self {
            id: person.subject.clone(),
            name: profile.and_then(|p| p.name.clone()),
            image_url: profile.and_then(|p| p.image_url.clone()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoDto {
    pub id: Uuid,
    pub author: Author,
    pub caption: String,
    /// Lower-cased, without `#`.
    pub hashtags: Vec<String>,
    /// `processing`, `ready` or `failed`.
    pub status: String,
    /// Why processing failed, for the owner.
    pub failure_reason: Option<String>,
    /// `upload` or `external`.
    pub source: String,
    pub duration_seconds: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub poster_url: Option<String>,
    /// The video itself: the hosted URL of an external video.
    pub stream_url: Option<String>,
    /// The HLS playlist of an uploaded video.
    pub hls_url: Option<String>,
    pub like_count: i64,
    pub comment_count: i64,
    pub view_count: i64,
    /// Whether the caller likes it (false when anonymous).
    pub liked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl VideoDto {
    /// `base`: the prefix of media URLs (empty: paths on the gateway).
    pub fn new(video: Video, author: Author, liked: bool, base: &str) -> Self {
        let media = video.media();
        let urls = video.urls(&media, base);
        Self {
            id: video.id,
            author,
            caption: video.caption,
            hashtags: video.hashtags.into_iter().flatten().collect(),
            status: video.status,
            failure_reason: video.failure_reason,
            source: video.source,
            duration_seconds: media.duration_seconds,
            width: media.width,
            height: media.height,
            poster_url: urls.poster,
            stream_url: urls.stream,
            hls_url: urls.hls,
            like_count: video.like_count,
            comment_count: video.comment_count,
            view_count: video.view_count,
            liked,
            created_at: video.created_at,
            updated_at: video.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoPage {
    pub items: Vec<VideoDto>,
    /// The next page's cursor; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentDto {
    pub id: Uuid,
    pub video_id: Uuid,
    /// The top-level comment a reply belongs to.
    pub parent_id: Option<Uuid>,
    pub author: Author,
    /// `null` once deleted.
    pub text: Option<String>,
    pub reply_count: i64,
    pub like_count: i64,
    pub liked: bool,
    /// A deleted comment stays (without text or author data) while it has replies.
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
}

impl CommentDto {
    pub fn new(comment: Comment, author: Author, liked: bool) -> Self {
        let author = if comment.deleted {
            Author {
                id: author.id,
                name: None,
                image_url: None,
            }
        } else {
            author
        };
        Self {
            id: comment.id,
            video_id: comment.video_id,
            parent_id: comment.parent_id,
            author,
            text: comment.text,
            reply_count: comment.reply_count,
            like_count: comment.like_count,
            liked,
            deleted: comment.deleted,
            created_at: comment.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentPage {
    pub items: Vec<CommentDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LikeState {
    pub liked: bool,
    pub like_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewResult {
    /// False when this viewer was counted on this video within the window.
    pub counted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowState {
    pub following: bool,
    /// The followed user's followers.
    pub follower_count: i64,
}

/// Someone in a list of followers or followings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserCard {
    pub id: String,
    pub name: Option<String>,
    pub image_url: Option<String>,
    /// Whether the caller follows them (false when anonymous).
    pub following: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub items: Vec<UserCard>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub id: String,
    pub name: Option<String>,
    pub image_url: Option<String>,
    pub bio: Option<String>,
    pub follower_count: i64,
    pub following_count: i64,
    /// Ready videos.
    pub video_count: i64,
    /// Likes received on their videos.
    pub like_count: i64,
    /// Whether the caller follows them.
    pub following: bool,
    /// Whether they follow the caller.
    pub follows_you: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TagCount {
    pub tag: String,
    /// Ready videos carrying it in the last 7 days.
    pub video_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    pub items: Vec<TagCount>,
}

/// The video a notification is about.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VideoSummary {
    pub id: Uuid,
    pub caption: String,
    pub poster_url: Option<String>,
}

/// The comment (or reply) a notification is about; `text` is `null` once deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentSummary {
    pub id: Uuid,
    pub text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDto {
    pub id: Uuid,
    /// `like`, `comment`, `reply` or `follow`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The latest three, newest first.
    pub actors: Vec<Author>,
    /// Everyone who did it (while unread, the group grows).
    pub actor_count: i64,
    pub video: Option<VideoSummary>,
    pub comment: Option<CommentSummary>,
    /// Of the latest activity.
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub items: Vec<NotificationDto>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub count: i64,
}
