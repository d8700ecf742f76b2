//! The trending ranking, as snapshots: every minute the ready videos of the last
//! 30 days are scored and the top ones written as a new snapshot, so a cursor
//! keeps walking the ranking it started on while newer ones are computed. The
//! for-you feed is a ranking of one user's own, stored for its cursors.
//!
//! score = (1 + likes + 2 × comments + 0.2 × views) / (hours since posted + 2)^1.5

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::Video;
use super::schema::{
    foryou_entries, foryou_sessions, trending_entries, trending_snapshots, videos,
};
use crate::domain::Person;

/// How many videos a snapshot ranks.
pub const SNAPSHOT_SIZE: i64 = 1000;
/// How many videos a for-you session ranks.
pub const SESSION_SIZE: i64 = 500;
/// Snapshots and sessions older than this are deleted (their cursors then 422).
pub const KEEP_HOURS: i64 = 24;

/// The SQL of the score, over `videos`.
const SCORE: &str = "(1 + like_count + 2 * comment_count + 0.2 * view_count) \
     / power(extract(epoch FROM (now() - created_at)) / 3600.0 + 2, 1.5)";

#[derive(QueryableByName)]
struct SnapshotId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The newest snapshot, if one is younger than `max_age_secs`.
pub fn fresh_snapshot(conn: &mut PgConnection, max_age_secs: i64) -> QueryResult<Option<i64>> {
    diesel::sql_query(
        "SELECT id FROM trending_snapshots WHERE computed_at > now() - make_interval(secs => $1::float8) \
         ORDER BY id DESC LIMIT 1",
    )
    .bind::<BigInt, _>(max_age_secs)
    .get_result::<SnapshotId>(conn)
    .optional()
    .map(|r| r.map(|r| r.id))
}

/// Computes a new snapshot unless another replica made one in the last
/// `min_age_secs`; the newest snapshot either way.
pub fn refresh(conn: &mut PgConnection, min_age_secs: i64) -> QueryResult<i64> {
    conn.transaction(|conn| {
        // One replica computes at a time; the others wait, then find it fresh.
        diesel::sql_query("SELECT pg_advisory_xact_lock(727275)").execute(conn)?;
        if let Some(id) = fresh_snapshot(conn, min_age_secs)? {
            return Ok(id);
        }
        let id: i64 = diesel::insert_into(trending_snapshots::table)
            .default_values()
            .returning(trending_snapshots::id)
            .get_result(conn)?;
        diesel::sql_query(format!(
            "INSERT INTO trending_entries (snapshot_id, rank, video_id, score) \
             SELECT $1, row_number() OVER (ORDER BY s.score DESC, s.id DESC), s.id, s.score \
             FROM (SELECT id, {SCORE} AS score FROM videos \
                   WHERE status = 'ready' AND created_at > now() - interval '30 days' \
                   ORDER BY score DESC, id DESC LIMIT $2) s"
        ))
        .bind::<BigInt, _>(id)
        .bind::<BigInt, _>(SNAPSHOT_SIZE)
        .execute(conn)?;
        diesel::sql_query(format!(
            "DELETE FROM trending_snapshots WHERE computed_at < now() - interval '{KEEP_HOURS} hours'"
        ))
        .execute(conn)?;
        Ok(id)
    })
}

pub fn snapshot_exists(conn: &mut PgConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(trending_snapshots::table.find(id))).get_result(conn)
}

/// The page of snapshot `id` after `after_rank`: ready videos, in rank order.
pub fn trending_page(
    conn: &mut PgConnection,
    id: i64,
    after_rank: i32,
    limit: i64,
) -> QueryResult<Vec<(i32, Video)>> {
    trending_entries::table
        .inner_join(videos::table)
        .filter(trending_entries::snapshot_id.eq(id))
        .filter(trending_entries::rank.gt(after_rank))
        .filter(super::models::is_ready())
        .select((trending_entries::rank, Video::as_select()))
        .order(trending_entries::rank.asc())
        .limit(limit)
        .load(conn)
}

/// A for-you ranking for `viewer` from snapshot `snapshot`: trending scores
/// raised for creators they follow (× 2.5) and for hashtags of videos they
/// liked (× 1.5 per shared tag, up to three), leaving out their own videos,
/// what they liked, what they viewed and what this feed gave them in the last
/// 7 days. Returns the session's id.
pub fn start_session(conn: &mut PgConnection, viewer: &Person, snapshot: i64) -> QueryResult<Uuid> {
    conn.transaction(|conn| {
        let session = Uuid::now_v7();
        diesel::insert_into(foryou_sessions::table)
            .values((
                foryou_sessions::id.eq(session),
                foryou_sessions::user_issuer.eq(&viewer.issuer),
                foryou_sessions::user_subject.eq(&viewer.subject),
                foryou_sessions::snapshot_id.eq(snapshot),
            ))
            .execute(conn)?;
        diesel::sql_query(
            "WITH liked_tags AS ( \
               SELECT DISTINCT unnest(v.hashtags) AS tag FROM video_likes l JOIN videos v ON v.id = l.video_id \
               WHERE l.user_issuer = $2 AND l.user_subject = $3 \
               AND l.created_at > now() - interval '90 days'), \
             ranked AS ( \
               SELECT e.video_id, e.score \
                 * CASE WHEN EXISTS (SELECT 1 FROM follows f WHERE f.follower_issuer = $2 AND f.follower_subject = $3 \
                        AND f.followee_issuer = v.author_issuer AND f.followee_subject = v.author_subject) THEN 2.5 ELSE 1 END \
                 * power(1.5, LEAST(3, (SELECT count(*) FROM unnest(v.hashtags) t WHERE t IN (SELECT tag FROM liked_tags)))) AS score \
               FROM trending_entries e JOIN videos v ON v.id = e.video_id \
               WHERE e.snapshot_id = $4 AND v.status = 'ready' \
                 AND NOT (v.author_issuer = $2 AND v.author_subject = $3) \
                 AND NOT EXISTS (SELECT 1 FROM seen_videos s WHERE s.user_issuer = $2 AND s.user_subject = $3 \
                     AND s.video_id = v.id AND s.seen_at > now() - interval '7 days') \
                 AND NOT EXISTS (SELECT 1 FROM video_likes l WHERE l.user_issuer = $2 AND l.user_subject = $3 \
                     AND l.video_id = v.id) \
                 AND NOT EXISTS (SELECT 1 FROM foryou_deliveries d WHERE d.user_issuer = $2 AND d.user_subject = $3 \
                     AND d.video_id = v.id AND d.delivered_at > now() - interval '7 days')) \
             INSERT INTO foryou_entries (session_id, rank, video_id) \
             SELECT $1, row_number() OVER (ORDER BY score DESC, video_id DESC), video_id \
             FROM (SELECT * FROM ranked ORDER BY score DESC, video_id DESC LIMIT $5) r",
        )
        .bind::<SqlUuid, _>(session)
        .bind::<Text, _>(&viewer.issuer)
        .bind::<Text, _>(&viewer.subject)
        .bind::<BigInt, _>(snapshot)
        .bind::<BigInt, _>(SESSION_SIZE)
        .execute(conn)?;
        Ok(session)
    })
}

/// Whether `session` is `viewer`'s and still kept.
pub fn session_of(conn: &mut PgConnection, session: Uuid, viewer: &Person) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        foryou_sessions::table
            .find(session)
            .filter(foryou_sessions::user_issuer.eq(&viewer.issuer))
            .filter(foryou_sessions::user_subject.eq(&viewer.subject)),
    ))
    .get_result(conn)
}

/// A page of a for-you session, and the deliveries recorded: the same cursor
/// gives the same page, and what it gave is left out of the next sessions.
pub fn foryou_page(
    conn: &mut PgConnection,
    session: Uuid,
    viewer: &Person,
    after_rank: i32,
    limit: i64,
) -> QueryResult<Vec<(i32, Video)>> {
    let rows: Vec<(i32, Video)> = foryou_entries::table
        .inner_join(videos::table)
        .filter(foryou_entries::session_id.eq(session))
        .filter(foryou_entries::rank.gt(after_rank))
        .filter(super::models::is_ready())
        .select((foryou_entries::rank, Video::as_select()))
        .order(foryou_entries::rank.asc())
        .limit(limit)
        .load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|(_, v)| v.id).collect();
    if !ids.is_empty() {
        diesel::sql_query(
            "INSERT INTO foryou_deliveries (user_issuer, user_subject, video_id) \
             SELECT $1, $2, id FROM unnest($3::uuid[]) AS id \
             ON CONFLICT (user_issuer, user_subject, video_id) DO UPDATE SET delivered_at = now()",
        )
        .bind::<Text, _>(&viewer.issuer)
        .bind::<Text, _>(&viewer.subject)
        .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
        .execute(conn)?;
    }
    Ok(rows)
}

/// Deletes for-you sessions and deliveries past their use.
pub fn prune(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(format!(
        "DELETE FROM foryou_sessions WHERE created_at < now() - interval '{KEEP_HOURS} hours'"
    ))
    .execute(conn)?;
    diesel::sql_query(
        "DELETE FROM foryou_deliveries WHERE delivered_at < now() - interval '7 days'",
    )
    .execute(conn)?;
    Ok(())
}
