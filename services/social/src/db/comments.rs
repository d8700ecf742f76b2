//! Comments with one level of replies, and their likes. A comment, its parent's
//! reply count and the video's comment count move in one transaction, after the
//! video's row is locked.

use std::collections::HashSet;

use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{Comment, Video};
use super::notifications::{self, Event};
use super::schema::{comment_likes, comments, videos};
use super::videos::{ensure_person, VideoKey};
use crate::domain::Person;
use crate::notify::Notice;

pub enum Posted {
    /// With the notice for the video's author (a comment) or the replied
    /// comment's author (a reply).
    Comment(Box<Comment>, Option<Notice>),
    /// The parent is not a comment of this video (or was deleted).
    NoParent,
    /// The video is gone or not visible to the author.
    NoVideo,
}

fn lock_video(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Video>> {
    videos::table
        .find(id)
        .select(Video::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()
}

fn bump_video(conn: &mut PgConnection, id: Uuid, delta: i64) -> QueryResult<()> {
    diesel::update(videos::table.find(id))
        .set(videos::comment_count.eq(videos::comment_count + delta))
        .execute(conn)
        .map(|_| ())
}

fn bump_replies(conn: &mut PgConnection, id: Uuid, delta: i64) -> QueryResult<i64> {
    diesel::update(comments::table.find(id))
        .set(comments::reply_count.eq(comments::reply_count + delta))
        .returning(comments::reply_count)
        .get_result(conn)
}

/// Posts a comment, or a reply when `parent` is given: a reply to a reply
/// attaches to the top-level comment above it.
pub fn post(
    conn: &mut PgConnection,
    video_id: Uuid,
    parent: Option<Uuid>,
    author: &Person,
    text: &str,
) -> Result<Posted, ApiError> {
    conn.transaction(|conn| {
        let Some(video) = lock_video(conn, video_id)?.filter(|v| v.visible_to(Some(author))) else {
            return Ok(Posted::NoVideo);
        };
        let parent = match parent {
            None => None,
            Some(id) => {
                let found: Option<Comment> = comments::table
                    .find(id)
                    .filter(comments::video_id.eq(video_id))
                    .filter(comments::deleted.eq(false))
                    .select(Comment::as_select())
                    .first(conn)
                    .optional()?;
                match found {
                    // The one replied to, and the top-level comment it is under.
                    Some(c) => Some((c.author(), c.parent_id.unwrap_or(c.id))),
                    None => return Ok(Posted::NoParent),
                }
            }
        };
        ensure_person(conn, author)?;
        let comment = diesel::insert_into(comments::table)
            .values((
                comments::id.eq(Uuid::now_v7()),
                comments::video_id.eq(video_id),
                comments::parent_id.eq(parent.as_ref().map(|(_, top)| *top)),
                comments::author_issuer.eq(&author.issuer),
                comments::author_subject.eq(&author.subject),
                comments::text.eq(text),
            ))
            .returning(Comment::as_returning())
            .get_result(conn)?;
        let (recipient, event) = match &parent {
            Some((replied_to, top)) => {
                bump_replies(conn, *top, 1)?;
                let event = Event::Reply {
                    video: video_id,
                    parent: *top,
                    comment: comment.id,
                };
                (replied_to.clone(), event)
            }
            None => {
                let event = Event::Comment {
                    video: video_id,
                    comment: comment.id,
                };
                (video.author(), event)
            }
        };
        bump_video(conn, video_id, 1)?;
        let recorded = notifications::record(conn, &recipient, author, &event)?;
        Ok(Posted::Comment(
            Box::new(comment),
            Notice::of(&recipient, recorded),
        ))
    })
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<(Comment, Video)>> {
    comments::table
        .inner_join(videos::table)
        .filter(comments::id.eq(id))
        .select((Comment::as_select(), Video::as_select()))
        .first(conn)
        .optional()
}

pub fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Comment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    comments::table
        .filter(comments::id.eq_any(ids))
        .select(Comment::as_select())
        .load(conn)
}

/// A video's top-level comments, newest first (deleted ones stay while they
/// have replies).
pub fn top_level(
    conn: &mut PgConnection,
    video_id: Uuid,
    before: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    let mut query = comments::table
        .filter(comments::video_id.eq(video_id))
        .filter(comments::parent_id.is_null())
        .select(Comment::as_select())
        .order((comments::created_at.desc(), comments::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((t, id)) = before {
        query = query.filter(comments::created_at.le(t)).filter(
            comments::created_at
                .lt(t)
                .or(comments::created_at.eq(t).and(comments::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Replies to a top-level comment, oldest first.
pub fn replies(
    conn: &mut PgConnection,
    parent: Uuid,
    after: Option<VideoKey>,
    limit: i64,
) -> QueryResult<Vec<Comment>> {
    let mut query = comments::table
        .filter(comments::parent_id.eq(parent))
        .select(Comment::as_select())
        .order((comments::created_at.asc(), comments::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((t, id)) = after {
        query = query.filter(comments::created_at.ge(t)).filter(
            comments::created_at
                .gt(t)
                .or(comments::created_at.eq(t).and(comments::id.gt(id))),
        );
    }
    query.load(conn)
}

/// Deletes a comment: a top-level comment with replies keeps its place without
/// its text; a reply whose deleted parent is left without replies takes the
/// parent with it. `false` when it was already gone.
pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, ApiError> {
    conn.transaction(|conn| {
        let Some((comment, video)) = find(conn, id)? else {
            return Ok(false);
        };
        if comment.deleted || lock_video(conn, video.id)?.is_none() {
            return Ok(false);
        }
        // Locked now: read again, a reply may have come meanwhile.
        let comment: Comment = comments::table
            .find(id)
            .select(Comment::as_select())
            .for_update()
            .first(conn)?;
        if comment.reply_count > 0 {
            diesel::update(comments::table.find(id))
                .set((
                    comments::deleted.eq(true),
                    comments::text.eq(None::<String>),
                ))
                .execute(conn)?;
        } else {
            diesel::delete(comments::table.find(id)).execute(conn)?;
        }
        bump_video(conn, video.id, -1)?;
        if let Some(parent) = comment.parent_id {
            let left = bump_replies(conn, parent, -1)?;
            if left == 0 {
                diesel::delete(
                    comments::table
                        .find(parent)
                        .filter(comments::deleted.eq(true)),
                )
                .execute(conn)?;
            }
        }
        Ok(true)
    })
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
    comment_likes::table
        .filter(comment_likes::user_issuer.eq(&person.issuer))
        .filter(comment_likes::user_subject.eq(&person.subject))
        .filter(comment_likes::comment_id.eq_any(ids))
        .select(comment_likes::comment_id)
        .load(conn)
        .map(|ids| ids.into_iter().collect())
}

/// Likes or unlikes a comment, idempotently; `None` when it is gone, deleted, or
/// on a video `person` cannot see.
pub fn set_like(
    conn: &mut PgConnection,
    id: Uuid,
    person: &Person,
    like: bool,
) -> Result<Option<i64>, ApiError> {
    conn.transaction(|conn| {
        let Some((_, video)) = find(conn, id)? else {
            return Ok(None);
        };
        if !video.visible_to(Some(person)) {
            return Ok(None);
        }
        let Some(comment) = comments::table
            .find(id)
            .filter(comments::deleted.eq(false))
            .select(Comment::as_select())
            .for_no_key_update()
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        let changed = if like {
            ensure_person(conn, person)?;
            diesel::insert_into(comment_likes::table)
                .values((
                    comment_likes::comment_id.eq(id),
                    comment_likes::user_issuer.eq(&person.issuer),
                    comment_likes::user_subject.eq(&person.subject),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?
        } else {
            diesel::delete(comment_likes::table.find((id, &person.issuer, &person.subject)))
                .execute(conn)?
        };
        if changed == 0 {
            return Ok(Some(comment.like_count));
        }
        let delta = if like { 1 } else { -1 };
        let count = diesel::update(comments::table.find(id))
            .set(comments::like_count.eq(comments::like_count + delta))
            .returning(comments::like_count)
            .get_result(conn)?;
        Ok(Some(count))
    })
}
