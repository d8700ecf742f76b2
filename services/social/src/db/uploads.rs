//! Resumable (tus) uploads: their length, how much has arrived, in how many
//! parts, and the video they became.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::tus_uploads;
use crate::domain::Person;

/// How long an upload may take, from its creation.
pub const EXPIRES_AFTER_SECS: i64 = 24 * 3600;
/// How long one PATCH holds its upload (another PATCH meanwhile is 409).
const BUSY_SECS: i32 = 600;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tus_uploads, check_for_backend(diesel::pg::Pg))]
pub struct Upload {
    pub id: Uuid,
    pub owner_issuer: String,
    pub owner_subject: String,
    pub upload_length: i64,
    pub upload_offset: i64,
    pub parts: i32,
    pub caption: String,
    pub filename: Option<String>,
    pub busy_until: Option<DateTime<Utc>>,
    pub video_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl Upload {
    pub fn is_complete(&self) -> bool {
        self.upload_offset == self.upload_length
    }
}

pub fn create(
    conn: &mut PgConnection,
    owner: &Person,
    length: i64,
    caption: &str,
    filename: Option<&str>,
) -> QueryResult<Upload> {
    diesel::insert_into(tus_uploads::table)
        .values((
            tus_uploads::id.eq(Uuid::now_v7()),
            tus_uploads::owner_issuer.eq(&owner.issuer),
            tus_uploads::owner_subject.eq(&owner.subject),
            tus_uploads::upload_length.eq(length),
            tus_uploads::caption.eq(caption),
            tus_uploads::filename.eq(filename),
            tus_uploads::expires_at.eq(super::from_now(
                i32::try_from(EXPIRES_AFTER_SECS).unwrap_or(86_400),
            )),
        ))
        .returning(Upload::as_returning())
        .get_result(conn)
}

/// `owner`'s upload, unless it expired.
pub fn find(conn: &mut PgConnection, id: Uuid, owner: &Person) -> QueryResult<Option<Upload>> {
    tus_uploads::table
        .find(id)
        .filter(tus_uploads::owner_issuer.eq(&owner.issuer))
        .filter(tus_uploads::owner_subject.eq(&owner.subject))
        .filter(tus_uploads::expires_at.gt(now))
        .select(Upload::as_select())
        .first(conn)
        .optional()
}

/// Takes the upload for one PATCH at `offset`: `None` when it is at another
/// offset or another PATCH holds it.
pub fn begin_patch(conn: &mut PgConnection, id: Uuid, offset: i64) -> QueryResult<Option<Upload>> {
    diesel::update(
        tus_uploads::table
            .find(id)
            .filter(tus_uploads::upload_offset.eq(offset))
            .filter(
                tus_uploads::busy_until
                    .is_null()
                    .or(tus_uploads::busy_until.lt(now)),
            ),
    )
    .set(tus_uploads::busy_until.eq(super::from_now(BUSY_SECS).nullable()))
    .returning(Upload::as_returning())
    .get_result(conn)
    .optional()
}

/// Ends a PATCH that stored `added` bytes as part number `parts` (none when
/// `added` is 0).
pub fn end_patch(conn: &mut PgConnection, id: Uuid, added: i64) -> QueryResult<Upload> {
    let new_parts = i32::from(added > 0);
    diesel::update(tus_uploads::table.find(id))
        .set((
            tus_uploads::upload_offset.eq(tus_uploads::upload_offset + added),
            tus_uploads::parts.eq(tus_uploads::parts + new_parts),
            tus_uploads::busy_until.eq(None::<DateTime<Utc>>),
        ))
        .returning(Upload::as_returning())
        .get_result(conn)
}

pub fn set_video(conn: &mut PgConnection, id: Uuid, video: Uuid) -> QueryResult<()> {
    diesel::update(tus_uploads::table.find(id))
        .set(tus_uploads::video_id.eq(video))
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(tus_uploads::table.find(id)).execute(conn)
}

/// Expired uploads (their rows go; the caller removes their parts).
pub fn take_expired(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Uuid>> {
    let ids: Vec<Uuid> = tus_uploads::table
        .filter(tus_uploads::expires_at.le(now))
        .select(tus_uploads::id)
        .limit(limit)
        .load(conn)?;
    diesel::delete(tus_uploads::table.filter(tus_uploads::id.eq_any(&ids))).execute(conn)?;
    Ok(ids)
}
