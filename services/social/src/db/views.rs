//! Views applied to the counters: buffered batches from Redis (each applied once,
//! whatever retries happen), or one view at a time without Redis.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::view_batches;
use crate::domain::Person;

/// Someone who saw a video, for the for-you feed.
pub struct Seen {
    pub person: Person,
    pub video: Uuid,
    pub at: DateTime<Utc>,
}

/// Applies batch `id` (view counts per video, and who saw what) unless it was
/// applied before; `false` when it had been.
pub fn apply_batch(
    conn: &mut PgConnection,
    id: &str,
    counts: &[(Uuid, i64)],
    seen: &[Seen],
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let fresh = diesel::insert_into(view_batches::table)
            .values(view_batches::id.eq(id))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if fresh == 0 {
            return Ok(false);
        }
        let (ids, ns): (Vec<Uuid>, Vec<i64>) = counts.iter().copied().unzip();
        if !ids.is_empty() {
            // In id order: the rows are locked in one order by every batch.
            diesel::sql_query(
                "UPDATE videos v SET view_count = v.view_count + d.n \
                 FROM (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS d(id, n) ORDER BY id) d \
                 WHERE v.id = d.id",
            )
            .bind::<Array<SqlUuid>, _>(&ids)
            .bind::<Array<BigInt>, _>(&ns)
            .execute(conn)?;
        }
        mark_seen(conn, seen)?;
        Ok(true)
    })
}

/// Records what signed-in users saw (videos deleted meanwhile are skipped).
pub fn mark_seen(conn: &mut PgConnection, seen: &[Seen]) -> QueryResult<()> {
    if seen.is_empty() {
        return Ok(());
    }
    let issuers: Vec<&str> = seen.iter().map(|s| s.person.issuer.as_str()).collect();
    let subjects: Vec<&str> = seen.iter().map(|s| s.person.subject.as_str()).collect();
    let videos: Vec<Uuid> = seen.iter().map(|s| s.video).collect();
    let ats: Vec<DateTime<Utc>> = seen.iter().map(|s| s.at).collect();
    diesel::sql_query(
        "INSERT INTO seen_videos (user_issuer, user_subject, video_id, seen_at) \
         SELECT s.i, s.s, s.v, s.t FROM unnest($1::text[], $2::text[], $3::uuid[], $4::timestamptz[]) AS s(i, s, v, t) \
         JOIN videos ON videos.id = s.v \
         ON CONFLICT (user_issuer, user_subject, video_id) DO UPDATE SET seen_at = GREATEST(seen_videos.seen_at, EXCLUDED.seen_at)",
    )
    .bind::<Array<Text>, _>(issuers)
    .bind::<Array<Text>, _>(subjects)
    .bind::<Array<SqlUuid>, _>(videos)
    .bind::<Array<Timestamptz>, _>(ats)
    .execute(conn)
    .map(|_| ())
}

/// Without Redis: counts the view unless `viewer` was counted on this video in
/// the last `window_secs`; true when counted.
pub fn count_directly(
    conn: &mut PgConnection,
    video: Uuid,
    viewer: &str,
    window_secs: i64,
    seen: Option<&Person>,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        #[derive(QueryableByName)]
        struct Counted {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            #[allow(dead_code)]
            counted: bool,
        }
        let counted: Vec<Counted> = diesel::sql_query(
            "INSERT INTO view_marks (video_id, viewer) VALUES ($1, $2) \
             ON CONFLICT (video_id, viewer) DO UPDATE SET seen_at = now() \
               WHERE view_marks.seen_at < now() - make_interval(secs => $3::float8) \
             RETURNING true AS counted",
        )
        .bind::<SqlUuid, _>(video)
        .bind::<Text, _>(viewer)
        .bind::<BigInt, _>(window_secs)
        .load(conn)?;
        if counted.is_empty() {
            return Ok(false);
        }
        diesel::sql_query("UPDATE videos SET view_count = view_count + 1 WHERE id = $1")
            .bind::<SqlUuid, _>(video)
            .execute(conn)?;
        if let Some(person) = seen {
            mark_seen(
                conn,
                &[Seen {
                    person: person.clone(),
                    video,
                    at: Utc::now(),
                }],
            )?;
        }
        Ok(true)
    })
}

/// Forgets applied batch ids, view marks and seen videos past their use.
pub fn prune(conn: &mut PgConnection, window_secs: i64) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM view_batches WHERE applied_at < now() - interval '1 day'")
        .execute(conn)?;
    diesel::sql_query(
        "DELETE FROM view_marks WHERE seen_at < now() - make_interval(secs => $1::float8)",
    )
    .bind::<BigInt, _>(window_secs)
    .execute(conn)?;
    diesel::sql_query("DELETE FROM seen_videos WHERE seen_at < now() - interval '7 days'")
        .execute(conn)?;
    Ok(())
}
