//! Uploaded videos and their processing jobs. An upload becomes a video in
//! `processing` and a job in one transaction; a replica claims a due job with
//! `FOR UPDATE SKIP LOCKED` and holds it for a lease, so a job whose replica
//! stopped is claimed again once the lease has run out.

use common::ApiError;
use diesel::dsl::now;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{Media, Video, FAILED, PROCESSING, READY, UPLOAD};
use super::schema::{video_jobs, videos};
use super::videos::{bump_stats, ensure_person, write_tags};
use crate::domain::{Caption, Person};

fn media_json(media: &Media) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(media).map_err(|e| ApiError::Internal(e.into()))
}

/// The video of a stored upload, in `processing`, with its job.
pub fn create_upload(
    conn: &mut PgConnection,
    id: Uuid,
    author: &Person,
    caption: &Caption,
    media: &Media,
) -> Result<Video, ApiError> {
    let media = media_json(media)?;
    conn.transaction(|conn| {
        ensure_person(conn, author)?;
        let video: Video = diesel::insert_into(videos::table)
            .values((
                videos::id.eq(id),
                videos::author_issuer.eq(&author.issuer),
                videos::author_subject.eq(&author.subject),
                videos::caption.eq(&caption.text),
                videos::hashtags.eq(&caption.hashtags),
                videos::status.eq(PROCESSING),
                videos::source.eq(UPLOAD),
                videos::media.eq(media),
            ))
            .returning(Video::as_returning())
            .get_result(conn)?;
        write_tags(conn, &video)?;
        diesel::insert_into(video_jobs::table)
            .values(video_jobs::video_id.eq(id))
            .execute(conn)?;
        Ok(video)
    })
}

/// A claimed job: the video and which attempt this is (1 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    pub video_id: Uuid,
    pub attempt: i32,
}

/// Claims the oldest due job for `lease_secs`, if any.
pub fn claim(conn: &mut PgConnection, lease_secs: i32) -> QueryResult<Option<Claimed>> {
    conn.transaction(|conn| {
        let due: Option<Uuid> = video_jobs::table
            .filter(video_jobs::run_after.le(now))
            .filter(
                video_jobs::locked_until
                    .is_null()
                    .or(video_jobs::locked_until.lt(now)),
            )
            .order(video_jobs::run_after.asc())
            .select(video_jobs::video_id)
            .for_update()
            .skip_locked()
            .first(conn)
            .optional()?;
        let Some(id) = due else {
            return Ok(None);
        };
        let attempt = diesel::update(video_jobs::table.find(id))
            .set((
                video_jobs::locked_until.eq(super::from_now(lease_secs).nullable()),
                video_jobs::attempts.eq(video_jobs::attempts + 1),
            ))
            .returning(video_jobs::attempts)
            .get_result(conn)?;
        Ok(Some(Claimed {
            video_id: id,
            attempt,
        }))
    })
}

/// The video is processed: `ready` with its media, counted on its author's
/// profile, its job done. False when the video was deleted meanwhile.
pub fn finish_ready(conn: &mut PgConnection, id: Uuid, media: &Media) -> Result<bool, ApiError> {
    let media = media_json(media)?;
    conn.transaction(|conn| {
        let video: Option<Video> =
            diesel::update(videos::table.find(id).filter(videos::status.eq(PROCESSING)))
                .set((
                    videos::status.eq(READY),
                    videos::media.eq(media),
                    videos::updated_at.eq(now),
                ))
                .returning(Video::as_returning())
                .get_result(conn)
                .optional()?;
        diesel::delete(video_jobs::table.find(id)).execute(conn)?;
        match video {
            Some(video) => {
                bump_stats(conn, &video.author(), 1, 0)?;
                Ok(true)
            }
            None => Ok(false),
        }
    })
}

/// Processing gave up: `failed` with a reason its owner reads.
pub fn fail(conn: &mut PgConnection, id: Uuid, reason: &str) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let n = diesel::update(videos::table.find(id).filter(videos::status.eq(PROCESSING)))
            .set((
                videos::status.eq(FAILED),
                videos::failure_reason.eq(reason),
                videos::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::delete(video_jobs::table.find(id)).execute(conn)?;
        Ok(n == 1)
    })
}

/// The attempt failed for a reason that may pass: try again after `delay_secs`.
pub fn retry_later(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
    delay_secs: i32,
) -> QueryResult<()> {
    diesel::update(video_jobs::table.find(id))
        .set((
            video_jobs::locked_until.eq(None::<chrono::DateTime<chrono::Utc>>),
            video_jobs::run_after.eq(super::from_now(delay_secs)),
            video_jobs::last_error.eq(error),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Jobs waiting or running (for tests and readiness of a queue).
pub fn pending(conn: &mut PgConnection) -> QueryResult<i64> {
    video_jobs::table.count().get_result(conn)
}
