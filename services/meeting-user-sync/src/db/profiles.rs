//! Profiles: created or refreshed from an identity provider (never with an older
//! version than the stored one), edited by their user, anonymized on deletion.

use chrono::Utc;
use common::ApiError;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::models::Profile;
use super::schema::{profiles, webhook_deliveries};
use crate::directory::Identity;

/// What happened to a profile when an identity was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Updated,
    /// Older than what is stored: ignored.
    Stale,
}

impl Applied {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Stale => "stale",
        }
    }
}

pub fn find(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<Profile>, ApiError> {
    Ok(profiles::table
        .find((issuer, subject))
        .select(Profile::as_select())
        .first(conn)
        .optional()?)
}

/// Creates the profile, or refreshes its issuer-given fields when `identity` is at
/// least as recent as what is stored. A user-chosen name is kept; a deleted
/// profile comes back only with a newer identity.
pub fn apply_identity(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
    identity: &Identity,
) -> Result<(Profile, Applied), ApiError> {
    conn.transaction(|conn| {
        let inserted = diesel::insert_into(profiles::table)
            .values((
                profiles::issuer.eq(issuer),
                profiles::subject.eq(subject),
                profiles::email.eq(&identity.email),
                profiles::name.eq(&identity.name),
                profiles::image_url.eq(&identity.image_url),
                profiles::source_version.eq(identity.version),
            ))
            .on_conflict_do_nothing()
            .returning(Profile::as_returning())
            .get_result(conn)
            .optional()?;
        if let Some(created) = inserted {
            return Ok((created, Applied::Created));
        }
        let current: Profile = profiles::table
            .find((issuer, subject))
            .select(Profile::as_select())
            .for_update()
            .first(conn)?;
        let older = identity.version < current.source_version;
        // A tombstone outlives syncs that carry no version (tokens' own claims).
        if older || (current.is_deleted() && identity.version <= current.source_version) {
            return Ok((current, Applied::Stale));
        }
        let name = if current.name_source == "user" {
            current.name.clone()
        } else {
            identity.name.clone()
        };
        let updated = diesel::update(profiles::table.find((issuer, subject)))
            .set((
                profiles::email.eq(&identity.email),
                profiles::name.eq(name),
                profiles::image_url.eq(&identity.image_url),
                profiles::source_version.eq(identity.version),
                profiles::deleted_at.eq(None::<chrono::DateTime<Utc>>),
                profiles::updated_at.eq(Utc::now()),
            ))
            .returning(Profile::as_returning())
            .get_result(conn)?;
        Ok((updated, Applied::Updated))
    })
}

/// Deletes what the directory knows of a user: personal fields cleared, the row
/// kept as a tombstone at `version` so that older events cannot bring it back.
pub fn mark_deleted(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
    version: i64,
) -> Result<Applied, ApiError> {
    conn.transaction(|conn| {
        let now = Utc::now();
        let inserted = diesel::insert_into(profiles::table)
            .values((
                profiles::issuer.eq(issuer),
                profiles::subject.eq(subject),
                profiles::source_version.eq(version),
                profiles::deleted_at.eq(Some(now)),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 1 {
            return Ok(Applied::Created);
        }
        let changed = diesel::update(
            profiles::table
                .find((issuer, subject))
                .filter(profiles::source_version.le(version)),
        )
        .set((
            profiles::email.eq(None::<String>),
            profiles::name.eq(None::<String>),
            profiles::name_source.eq("issuer"),
            profiles::image_url.eq(None::<String>),
            profiles::bio.eq(None::<String>),
            profiles::preferences.eq(json!({})),
            profiles::source_version.eq(version),
            profiles::deleted_at.eq(Some(now)),
            profiles::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(if changed == 1 {
            Applied::Updated
        } else {
            Applied::Stale
        })
    })
}

/// The user's own edits; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProfileEdits {
    pub name: Option<String>,
    pub bio: Option<Option<String>>,
    pub preferences: Option<Value>,
}

pub fn edit(
    conn: &mut PgConnection,
    issuer: &str,
    subject: &str,
    edits: &ProfileEdits,
) -> Result<Option<Profile>, ApiError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = profiles)]
    struct Changes<'a> {
        name: Option<&'a str>,
        name_source: Option<&'a str>,
        bio: Option<Option<&'a str>>,
        preferences: Option<&'a Value>,
    }
    let changes = Changes {
        name: edits.name.as_deref(),
        name_source: edits.name.as_ref().map(|_| "user"),
        bio: edits.bio.as_ref().map(|b| b.as_deref()),
        preferences: edits.preferences.as_ref(),
    };
    Ok(diesel::update(
        profiles::table
            .find((issuer, subject))
            .filter(profiles::deleted_at.is_null()),
    )
    .set((changes, profiles::updated_at.eq(Utc::now())))
    .returning(Profile::as_returning())
    .get_result(conn)
    .optional()?)
}

/// The live profiles among `subjects` (any issuer).
pub fn find_many(conn: &mut PgConnection, subjects: &[String]) -> Result<Vec<Profile>, ApiError> {
    Ok(profiles::table
        .filter(profiles::subject.eq_any(subjects))
        .filter(profiles::deleted_at.is_null())
        .select(Profile::as_select())
        .load(conn)?)
}

/// Records a webhook delivery; false when this `svix-id` was applied before.
pub fn record_delivery(
    conn: &mut PgConnection,
    svix_id: &str,
    event_type: &str,
) -> Result<bool, ApiError> {
    let inserted = diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::svix_id.eq(svix_id),
            webhook_deliveries::event_type.eq(event_type),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}
