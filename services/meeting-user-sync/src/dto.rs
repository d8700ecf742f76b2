//! What the directory routes answer with.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use common::error::{ErrorBody, ErrorEnvelope};

use crate::db::models::{Meeting, Message, Participant, Profile};

/// A user as the directory knows them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto {
    /// The token subject: a UUID for first-party users, `user_…` for Clerk users.
    pub id: String,
    /// `reelstack`, `clerk`, or another configured issuer.
    pub issuer: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub image_url: Option<String>,
    pub bio: Option<String>,
    #[schema(value_type = Object)]
    pub preferences: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Profile> for ProfileDto {
    fn from(p: Profile) -> Self {
        Self {
            id: p.subject,
            issuer: p.issuer,
            email: p.email,
            name: p.name,
            image_url: p.image_url,
            bio: p.bio,
            preferences: p.preferences,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResult {
    pub user: ProfileDto,
    /// True for the request that created the profile.
    pub created: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBatch {
    pub items: Vec<ProfileDto>,
}

/// What an event did: `created`, `updated`, `stale` (older than the stored profile,
/// ignored), `replayed` (a webhook seen before) or `ignored` (an event type the
/// directory does not use).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResult {
    pub applied: &'static str,
}

/// A meeting, as its participants see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingDto {
    pub id: uuid::Uuid,
    pub title: String,
    pub description: Option<String>,
    /// The host's user id (token subject).
    pub host_id: String,
    /// `xxx-xxxx-xxx`, for `POST /api/meetings/join`.
    pub join_code: String,
    /// `scheduled`, `live` or `ended`.
    pub status: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Meeting> for MeetingDto {
    fn from(m: Meeting) -> Self {
        Self {
            id: m.id,
            title: m.title,
            description: m.description,
            host_id: m.host_subject,
            join_code: m.join_code,
            status: m.status,
            scheduled_at: m.scheduled_at,
            duration_minutes: m.duration_minutes,
            started_at: m.started_at,
            ended_at: m.ended_at,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingPage {
    pub items: Vec<MeetingDto>,
    pub meta: common::pagination::PageMeta,
}

/// A participant with their directory name and avatar (null when unknown).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantDto {
    pub user_id: String,
    pub issuer: String,
    /// `host` or `participant`.
    pub role: String,
    pub name: Option<String>,
    pub image_url: Option<String>,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    /// Joined and has not left.
    pub present: bool,
}

impl ParticipantDto {
    pub fn new(p: Participant, profile: Option<Profile>) -> Self {
        let present = p.is_present();
        let (name, image_url) = profile.map_or((None, None), |pr| (pr.name, pr.image_url));
        Self {
            user_id: p.subject,
            issuer: p.issuer,
            role: p.role,
            name,
            image_url,
            joined_at: p.joined_at,
            left_at: p.left_at,
            present,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantList {
    pub items: Vec<ParticipantDto>,
}

/// A chat message with its sender's directory name and avatar.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageDto {
    pub id: uuid::Uuid,
    pub meeting_id: uuid::Uuid,
    pub sender_id: String,
    pub sender_name: Option<String>,
    pub sender_image_url: Option<String>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl MessageDto {
    pub fn new(m: Message, sender: Option<Profile>) -> Self {
        let (sender_name, sender_image_url) =
            sender.map_or((None, None), |p| (p.name, p.image_url));
        Self {
            id: m.id,
            meeting_id: m.meeting_id,
            sender_id: m.sender_subject,
            sender_name,
            sender_image_url,
            text: m.text,
            created_at: m.created_at,
        }
    }
}

/// `{items, nextCursor}`: newest first; pass `nextCursor` back for older messages.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub items: Vec<MessageDto>,
    pub next_cursor: Option<String>,
}
