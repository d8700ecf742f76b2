//! Videos, their hashtags and likes, and the lists they appear in. Counters move
//! in the transaction that writes the rows they count, by `count = count + n`
//! under the row's lock, so they stay exact under any concurrency. A video's like
//! is the database function `set_video_like` (migration 000009).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::dsl::sql;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::{is_ready, Media, Video, EXTERNAL, READY};
use super::notifications;
use super::schema::{follows, user_stats, video_likes, video_tags, videos};
use crate::domain::{Caption, Person};
use crate::notify::Notice;

/// Where a newest-first list of videos starts: after `(created_at, id)`.
pub type VideoKey = (DateTime<Utc>, Uuid);

/// Makes sure `person` has a row of counters (everyone acted on or acting has one).
pub fn ensure_person(conn: &mut PgConnection, person: &Person) -> QueryResult<()> {
    diesel::insert_into(user_stats::table)
        .values((
            user_stats::issuer.eq(&person.issuer),
            user_stats::subject.eq(&person.subject),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|_| ())
}

/// Adds `delta` to one of `person`'s counters.
pub(crate) fn bump_stats(
    conn: &mut PgConnection,
    person: &Person,
    videos_delta: i64,
    likes_delta: i64,
) -> QueryResult<()> {
    ensure_person(conn, person)?;
    diesel::update(user_stats::table.find((&person.issuer, &person.subject)))
        .set((
            user_stats::video_count.eq(user_stats::video_count + videos_delta),
            user_stats::like_count.eq(user_stats::like_count + likes_delta),
        ))
        .execute(conn)
        .map(|_| ())
}

pub(crate) fn write_tags(conn: &mut PgConnection, video: &Video) -> QueryResult<()> {
    let rows: Vec<_> = video
        .hashtags
        .iter()
        .flatten()
        .map(|tag| {
            (
                video_tags::tag.eq(tag),
                video_tags::video_id.eq(video.id),
                video_tags::created_at.eq(video.created_at),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(video_tags::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// A video hosted elsewhere: ready at once.
pub fn create_external(
    conn: &mut PgConnection,
    author: &Person,
    caption: &Caption,
    url: &str,
    poster_url: Option<&str>,
) -> Result<Video, ApiError> {
    let media = serde_json::to_value(Media {
        url: Some(url.to_owned()),
        poster_url: poster_url.map(str::to_owned),
        ..Media::default()
    })
    .map_err(|e| ApiError::Internal(e.into()))?;
    conn.transaction(|conn| {
        let video: Video = diesel::insert_into(videos::table)
            .values((
                videos::id.eq(Uuid::now_v7()),
                videos::author_issuer.eq(&author.issuer),
                videos::author_subject.eq(&author.subject),
                videos::caption.eq(&caption.text),
                videos::hashtags.eq(&caption.hashtags),
                videos::status.eq(READY),
                videos::source.eq(EXTERNAL),
                videos::media.eq(media),
            ))
            .returning(Video::as_returning())
            .get_result(conn)?;
        write_tags(conn, &video)?;
        bump_stats(conn, author, 1, 0)?;
        Ok(video)
    })
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Video>> {
    videos::table
        .find(id)
        .select(Video::as_select())
        .first(conn)
        .optional()
}

pub fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Video>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    videos::table
        .filter(videos::id.eq_any(ids))
        .select(Video::as_select())
        .load(conn)
}

/// A new caption (and so new hashtags) for the author's video.
pub fn update_caption(
    conn: &mut PgConnection,
    id: Uuid,
    author: &Person,
    caption: &Caption,
) -> Result<Option<Video>, ApiError> {
    conn.transaction(|conn| {
        let video: Option<Video> = diesel::update(
            videos::table
                .find(id)
                .filter(videos::author_issuer.eq(&author.issuer))
                .filter(videos::author_subject.eq(&author.subject)),
        )
        .set((
            videos::caption.eq(&caption.text),
            videos::hashtags.eq(&caption.hashtags),
            videos::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Video::as_returning())
        .get_result(conn)
        .optional()?;
        if let Some(video) = video.as_ref().filter(|v| v.is_ready()) {
            diesel::delete(video_tags::table.filter(video_tags::video_id.eq(video.id)))
                .execute(conn)?;
            write_tags(conn, video)?;
        }
        Ok(video)
    })
}

/// Deletes the video with its tags, likes and comments (cascades); the author's
/// counters lose what it carried. `None` when it is already gone.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<Option<Video>, ApiError> {
    conn.transaction(|conn| {
        // FOR UPDATE waits for the likes, comments and views that hold the video
        // by their foreign keys (set_like takes the video's row last), so that
        // none is left waiting on a lock this holds.
        let Some(video) = videos::table
            .find(id)
            .select(Video::as_select())
            .for_update()
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        diesel::delete(videos::table.find(id)).execute(conn)?;
        common::idempotency::forget_resource(conn, &id.to_string())?;
        let ready = i64::from(video.is_ready());
        bump_stats(conn, &video.author(), -ready, -video.like_count)?;
        Ok(Some(video))
    })
}

/// `created_at < t OR (created_at = t AND id < id)`, with the first half
/// repeated as a range the index can use.
macro_rules! before_key {
    ($query:expr, $created:expr, $id:expr, $key:expr) => {
        match $key {
            Some((t, id)) => $query
                .filter($created.le(t))
                .filter($created.lt(t).or($created.eq(t).and($id.lt(id)))),
            None => $query,
        }
    };
}

/// One author's videos, newest first; unready ones only for the author.
pub fn by_author(
    conn: &mut PgConnection,
    author: &Person,
    include_unready: bool,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let mut query = videos::table
        .filter(videos::author_issuer.eq(&author.issuer))
        .filter(videos::author_subject.eq(&author.subject))
        .select(Video::as_select())
        .order((videos::created_at.desc(), videos::id.desc()))
        .limit(limit)
        .into_boxed();
    if !include_unready {
        query = query.filter(is_ready());
    }
    before_key!(query, videos::created_at, videos::id, before).load(conn)
}

/// Ready videos of the creators `viewer` follows, newest first.
pub fn following_feed(
    conn: &mut PgConnection,
    viewer: &Person,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    // Which plan is fast depends on how many creators the viewer follows, a
    // number PostgreSQL can only estimate (an average, or stale statistics after
    // a burst of follows): walking each creator's newest videos costs at most
    // follows × limit index entries, walking all videos newest first costs
    // limit ÷ (the followed creators' share of videos). The exact count
    // decides here.
    let following: i64 = user_stats::table
        .find((&viewer.issuer, &viewer.subject))
        .select(user_stats::following_count)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    if following == 0 {
        return Ok(Vec::new());
    }
    if following <= FEW_FOLLOWED {
        return following_feed_per_creator(conn, viewer, before, limit);
    }
    // Newest first over all ready videos, each checked against the followed
    // creators given as one array: PostgreSQL hashes a constant array, so the
    // check costs the same for any creator (a subquery per video is planned on
    // estimates: with stale ones it scanned every follow of the viewer's).
    let followed: Vec<String> = follows::table
        .filter(follows::follower_issuer.eq(&viewer.issuer))
        .filter(follows::follower_subject.eq(&viewer.subject))
        .select((follows::followee_issuer, follows::followee_subject))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(issuer, subject)| format!("{issuer}{AUTHOR_KEY_SEPARATOR}{subject}"))
        .collect();
    let after_cursor = if before.is_some() {
        "AND (created_at, id) < ($2, $3)"
    } else {
        "AND $2::timestamptz IS NULL AND $3::uuid IS NULL"
    };
    let (at, id) = before.unzip();
    // Not a prepared statement: planned for this array, so that it is hashed.
    diesel::sql_query(format!(
        "SELECT * FROM videos \
         WHERE status = 'ready' AND (author_issuer || E'\\x1f' || author_subject) = ANY($1) {after_cursor} \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind::<diesel::sql_types::Array<Text>, _>(&followed)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(at)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Between issuer and subject in the author keys of the following feed (no
/// issuer URL or subject holds it).
const AUTHOR_KEY_SEPARATOR: char = '\u{1f}';

/// Up to this many followed creators, the following feed takes each one's
/// newest videos and merges them.
const FEW_FOLLOWED: i64 = 100;

fn following_feed_per_creator(
    conn: &mut PgConnection,
    viewer: &Person,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let after_cursor = if before.is_some() {
        "AND (w.created_at, w.id) < ($3, $4)"
    } else {
        "AND $3::timestamptz IS NULL AND $4::uuid IS NULL"
    };
    let (at, id) = before.unzip();
    diesel::sql_query(format!(
        "SELECT v.* FROM follows f CROSS JOIN LATERAL ( \
           SELECT w.* FROM videos w \
           WHERE w.author_issuer = f.followee_issuer AND w.author_subject = f.followee_subject \
             AND w.status = 'ready' {after_cursor} \
           ORDER BY w.created_at DESC, w.id DESC LIMIT $5) v \
         WHERE f.follower_issuer = $1 AND f.follower_subject = $2 \
         ORDER BY v.created_at DESC, v.id DESC LIMIT $5"
    ))
    .bind::<Text, _>(&viewer.issuer)
    .bind::<Text, _>(&viewer.subject)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(at)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Ready videos carrying `tag`, newest first.
pub fn by_tag(
    conn: &mut PgConnection,
    tag: &str,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let query = video_tags::table
        .inner_join(videos::table)
        .filter(video_tags::tag.eq(tag))
        .filter(is_ready())
        .select(Video::as_select())
        .order((video_tags::created_at.desc(), video_tags::video_id.desc()))
        .limit(limit)
        .into_boxed();
    before_key!(query, video_tags::created_at, video_tags::video_id, before).load(conn)
}

/// Ready videos whose caption matches the words of `q` (PostgreSQL full text,
/// `simple` configuration: no stemming, any language), newest first.
pub fn search(
    conn: &mut PgConnection,
    q: &str,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Video>> {
    let matches = sql::<Bool>("to_tsvector('simple', caption) @@ plainto_tsquery('simple', ")
        .bind::<Text, _>(q.to_owned())
        .sql(")");
    let query = videos::table
        .filter(is_ready())
        .filter(matches)
        .select(Video::as_select())
        .order((videos::created_at.desc(), videos::id.desc()))
        .limit(limit)
        .into_boxed();
    before_key!(query, videos::created_at, videos::id, before).load(conn)
}

#[derive(Debug, QueryableByName)]
pub struct TagCount {
    #[diesel(sql_type = Text)]
    pub tag: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// The hashtags on the most videos of the last 7 days.
pub fn trending_tags(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<TagCount>> {
    diesel::sql_query(
        "SELECT tag, count(*) AS count FROM video_tags \
         WHERE created_at > now() - interval '7 days' \
         GROUP BY tag ORDER BY count DESC, tag LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// The ids among `ids` that `person` liked.
pub fn liked_among(
    conn: &mut PgConnection,
    person: &Person,
    ids: &[Uuid],
) -> QueryResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    video_likes::table
        .filter(video_likes::user_issuer.eq(&person.issuer))
        .filter(video_likes::user_subject.eq(&person.subject))
        .filter(video_likes::video_id.eq_any(ids))
        .select(video_likes::video_id)
        .load(conn)
        .map(|ids| ids.into_iter().collect())
}

/// Likes or unlikes video `id` for `person`: the count after and the author's
/// notice, if any; `None` when `person` cannot see the video. One call of the
/// database's `set_video_like` (migration 000009), a transaction of its own:
/// a storm of likes on one video waits on the rows they share in turn (its
/// notification group and counters), each held for microseconds, not for
/// round trips between here and the database.
pub fn set_like(
    conn: &mut PgConnection,
    id: Uuid,
    person: &Person,
    like: bool,
) -> Result<Option<(i64, Option<Notice>)>, ApiError> {
    #[derive(QueryableByName)]
    struct Liked {
        #[diesel(sql_type = BigInt)]
        like_count: i64,
        #[diesel(sql_type = Text)]
        author_issuer: String,
        #[diesel(sql_type = Text)]
        author_subject: String,
        #[diesel(sql_type = Nullable<SqlUuid>)]
        notification: Option<Uuid>,
    }
    let liked: Option<Liked> =
        diesel::sql_query("SELECT * FROM set_video_like($1, $2, $3, $4, $5, $6, $7)")
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(&person.issuer)
            .bind::<Text, _>(&person.subject)
            .bind::<Jsonb, _>(notifications::actor_json(person))
            .bind::<Bool, _>(like)
            .bind::<Integer, _>(notifications::RECENT)
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .get_result(conn)
            .optional()
            .map_err(|e| match e {
                // Deleted between the function's read and its insert.
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                    _,
                ) => crate::errors::video_not_found(),
                other => other.into(),
            })?;
    Ok(liked.map(|l| {
        let author = Person {
            issuer: l.author_issuer,
            subject: l.author_subject,
        };
        (l.like_count, Notice::of(&author, l.notification))
    }))
}

/// Videos `person` liked, newest like first, with when they liked each.
pub fn liked_by(
    conn: &mut PgConnection,
    person: &Person,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<(Video, DateTime<Utc>)>> {
    let query = video_likes::table
        .inner_join(videos::table)
        .filter(video_likes::user_issuer.eq(&person.issuer))
        .filter(video_likes::user_subject.eq(&person.subject))
        .filter(is_ready())
        .select((Video::as_select(), video_likes::created_at))
        .order((video_likes::created_at.desc(), video_likes::video_id.desc()))
        .limit(limit)
        .into_boxed();
    before_key!(
        query,
        video_likes::created_at,
        video_likes::video_id,
        before
    )
    .load(conn)
}
