//! What the directory routes answer with.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub use common::error::{ErrorBody, ErrorEnvelope};

use crate::db::models::Profile;

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
