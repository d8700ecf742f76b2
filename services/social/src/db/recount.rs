//! `social recount`: every counter checked against the rows it counts, drift fixed.
//! Rows are taken in batches, locked first (every write that moves a counter
//! locks the same row before it does), then counted by a statement of their own,
//! which sees every change committed before the locks: nothing moves meanwhile.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use serde::Serialize;
use uuid::Uuid;

const BATCH: i64 = 1000;

/// How many counters of one kind were checked, and how many were wrong.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub checked: u64,
    pub fixed: u64,
}

impl Tally {
    fn add(&mut self, checked: usize, fixed: usize) {
        self.checked += checked as u64;
        self.fixed += fixed as u64;
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub videos: Tally,
    pub comments: Tally,
    pub users: Tally,
}

impl Report {
    pub fn checked(&self) -> u64 {
        self.videos.checked + self.comments.checked + self.users.checked
    }

    pub fn fixed(&self) -> u64 {
        self.videos.fixed + self.comments.fixed + self.users.fixed
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct PersonKey {
    #[diesel(sql_type = Text)]
    issuer: String,
    #[diesel(sql_type = Text)]
    subject: String,
}

/// A batch of ids of `table` after `after`, locked.
fn lock_ids(conn: &mut PgConnection, table: &str, after: Option<Uuid>) -> QueryResult<Vec<Uuid>> {
    diesel::sql_query(format!(
        "SELECT id FROM {table} WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2 FOR UPDATE"
    ))
    .bind::<diesel::sql_types::Nullable<SqlUuid>, _>(after)
    .bind::<BigInt, _>(BATCH)
    .load::<Id>(conn)
    .map(|rows| rows.into_iter().map(|r| r.id).collect())
}

fn videos(conn: &mut PgConnection, tally: &mut Tally) -> QueryResult<()> {
    let mut after = None;
    loop {
        let fixed = conn.transaction(|conn| {
            let ids = lock_ids(conn, "videos", after)?;
            if ids.is_empty() {
                return Ok(None);
            }
            let fixed = diesel::sql_query(
                "UPDATE videos v SET like_count = c.likes, comment_count = c.comments \
                 FROM (SELECT v2.id, \
                         (SELECT count(*) FROM video_likes l WHERE l.video_id = v2.id) AS likes, \
                         (SELECT count(*) FROM comments m WHERE m.video_id = v2.id AND NOT m.deleted) AS comments \
                       FROM videos v2 WHERE v2.id = ANY($1)) c \
                 WHERE v.id = c.id AND (v.like_count, v.comment_count) IS DISTINCT FROM (c.likes, c.comments)",
            )
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
            .execute(conn)?;
            Ok::<_, diesel::result::Error>(Some((ids, fixed)))
        })?;
        let Some((ids, fixed)) = fixed else {
            return Ok(());
        };
        tally.add(ids.len(), fixed);
        after = ids.last().copied();
    }
}

fn comments(conn: &mut PgConnection, tally: &mut Tally) -> QueryResult<()> {
    let mut after = None;
    loop {
        let fixed = conn.transaction(|conn| {
            let ids = lock_ids(conn, "comments", after)?;
            if ids.is_empty() {
                return Ok(None);
            }
            let fixed = diesel::sql_query(
                "UPDATE comments m SET reply_count = c.replies, like_count = c.likes \
                 FROM (SELECT m2.id, \
                         (SELECT count(*) FROM comments r WHERE r.parent_id = m2.id) AS replies, \
                         (SELECT count(*) FROM comment_likes l WHERE l.comment_id = m2.id) AS likes \
                       FROM comments m2 WHERE m2.id = ANY($1)) c \
                 WHERE m.id = c.id AND (m.reply_count, m.like_count) IS DISTINCT FROM (c.replies, c.likes)",
            )
            .bind::<diesel::sql_types::Array<SqlUuid>, _>(&ids)
            .execute(conn)?;
            Ok::<_, diesel::result::Error>(Some((ids, fixed)))
        })?;
        let Some((ids, fixed)) = fixed else {
            return Ok(());
        };
        tally.add(ids.len(), fixed);
        after = ids.last().copied();
    }
}

fn users(conn: &mut PgConnection, tally: &mut Tally) -> QueryResult<()> {
    let mut after: Option<(String, String)> = None;
    loop {
        let fixed = conn.transaction(|conn| {
            let (issuer, subject) = after.clone().unzip();
            // Locked in key order, the order follows take them in.
            let keys: Vec<PersonKey> = diesel::sql_query(
                "SELECT issuer, subject FROM user_stats \
                 WHERE $1::text IS NULL OR (issuer, subject) > ($1, $2) \
                 ORDER BY issuer, subject LIMIT $3 FOR UPDATE",
            )
            .bind::<diesel::sql_types::Nullable<Text>, _>(issuer)
            .bind::<diesel::sql_types::Nullable<Text>, _>(subject)
            .bind::<BigInt, _>(BATCH)
            .load(conn)?;
            let Some(last) = keys.last() else {
                return Ok(None);
            };
            let last = (last.issuer.clone(), last.subject.clone());
            let (issuers, subjects): (Vec<String>, Vec<String>) =
                keys.into_iter().map(|k| (k.issuer, k.subject)).unzip();
            let checked = issuers.len();
            let fixed = diesel::sql_query(
                "UPDATE user_stats s SET follower_count = c.followers, following_count = c.following, \
                   video_count = c.videos, like_count = c.likes \
                 FROM (SELECT k.issuer, k.subject, \
                         (SELECT count(*) FROM follows f WHERE f.followee_issuer = k.issuer AND f.followee_subject = k.subject) AS followers, \
                         (SELECT count(*) FROM follows f WHERE f.follower_issuer = k.issuer AND f.follower_subject = k.subject) AS following, \
                         (SELECT count(*) FROM videos v WHERE v.author_issuer = k.issuer AND v.author_subject = k.subject AND v.status = 'ready') AS videos, \
                         (SELECT count(*) FROM video_likes l JOIN videos v ON v.id = l.video_id \
                            WHERE v.author_issuer = k.issuer AND v.author_subject = k.subject) AS likes \
                       FROM unnest($1::text[], $2::text[]) AS k(issuer, subject)) c \
                 WHERE s.issuer = c.issuer AND s.subject = c.subject \
                   AND (s.follower_count, s.following_count, s.video_count, s.like_count) \
                       IS DISTINCT FROM (c.followers, c.following, c.videos, c.likes)",
            )
            .bind::<diesel::sql_types::Array<Text>, _>(&issuers)
            .bind::<diesel::sql_types::Array<Text>, _>(&subjects)
            .execute(conn)?;
            Ok::<_, diesel::result::Error>(Some((last, checked, fixed)))
        })?;
        let Some((last, checked, fixed)) = fixed else {
            return Ok(());
        };
        tally.add(checked, fixed);
        after = Some(last);
    }
}

/// Checks every counter; fixes and counts the wrong ones.
pub fn recount(conn: &mut PgConnection) -> QueryResult<Report> {
    let mut report = Report::default();
    videos(conn, &mut report.videos)?;
    comments(conn, &mut report.comments)?;
    users(conn, &mut report.users)?;
    Ok(report)
}
