//! Comments on a video, with one level of replies, and their likes.

use actix_web::{web, HttpResponse};
use common::pagination::CursorQuery;
use common::ratelimit::Limit;
use common::tokens::{AuthUser, MaybeUser};
use common::ApiError;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{next_cursor, uuid_of, TimeKey};
use crate::db;
use crate::db::comments::Posted;
use crate::domain::{CommentText, Person};
use crate::dto::{CommentDto, CommentPage, ErrorEnvelope, LikeState};
use crate::errors::{comment_not_found, video_not_found};
use crate::present;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostComment {
    /// 1 to 1,000 characters, line breaks allowed.
    #[schema(value_type = String, required = true, format = "multiline", max_length = 1000)]
    pub text: Option<String>,
    /// The comment this one replies to (a reply to a reply joins the top-level
    /// comment's thread).
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<String>,
}

#[utoipa::path(post, path = "/api/videos/{id}/comments", tag = "comments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    request_body = PostComment,
    responses(
        (status = 201, description = "Posted", body = CommentDto),
        (status = 404, description = "No such video", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid text, or parentId not a comment of this video", body = ErrorEnvelope),
        (status = 429, description = "Too many comments this minute", body = ErrorEnvelope),
    ))]
pub async fn post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: common::Json<PostComment>,
) -> Result<HttpResponse, ApiError> {
    let video_id = uuid_of(&path, video_not_found)?;
    let body = body.into_inner();
    let mut errors = common::FieldErrors::new();
    let text = match body.text {
        None => {
            errors.add("text", "is required");
            None
        }
        Some(raw) => CommentText::parse(&raw)
            .map_err(|e| errors.add("text", e))
            .ok(),
    };
    let parent = match body.parent_id.as_deref().map(|p| Uuid::parse_str(p.trim())) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            errors.add("parentId", "must be a comment id");
            None
        }
    };
    errors.into_result()?;
    let Some(text) = text else {
        return Err(ApiError::internal("validated text missing"));
    };
    let me = Person::of(&user);
    let limit = Limit::per_minute("social-comments", state.settings.comments_per_user_per_min);
    state
        .limiter
        .check(&limit, &format!("{}:{}", me.issuer, me.subject))
        .await?;
    let author = me.clone();
    let posted = state
        .db
        .run(move |conn| db::comments::post(conn, video_id, parent, &author, &text.into_inner()))
        .await?;
    let comment = match posted {
        Posted::Comment(c, notice) => {
            state.notifier.announce(notice.as_slice()).await;
            *c
        }
        Posted::NoVideo => return Err(video_not_found()),
        Posted::NoParent => {
            return Err(ApiError::validation(
                "parentId",
                "is not a comment of this video",
            ))
        }
    };
    let mut dto = present::comments(&state, Some(&me), vec![comment]).await?;
    let dto = dto
        .pop()
        .ok_or_else(|| ApiError::internal("a presented comment went missing"))?;
    Ok(HttpResponse::Created().json(dto))
}

#[utoipa::path(get, path = "/api/videos/{id}/comments", tag = "comments", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id"), CursorQuery),
    responses(
        (status = 200, description = "Top-level comments, newest first, each with its replyCount", body = CommentPage),
        (status = 404, description = "No such video", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let video_id = uuid_of(&path, video_not_found)?;
    let (before, limit) = query.validate::<TimeKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    let who = viewer.clone();
    let rows = state
        .db
        .run(move |conn| {
            match db::videos::find(conn, video_id)? {
                Some(v) if v.visible_to(who.as_ref()) => {}
                _ => return Err(video_not_found()),
            }
            Ok(db::comments::top_level(conn, video_id, before, limit)?)
        })
        .await?;
    page(&state, viewer.as_ref(), rows, limit).await
}

async fn page(
    state: &AppState,
    viewer: Option<&Person>,
    rows: Vec<crate::db::models::Comment>,
    limit: i64,
) -> Result<HttpResponse, ApiError> {
    let next = next_cursor(&rows, limit, |c| (c.created_at, c.id));
    Ok(HttpResponse::Ok().json(CommentPage {
        items: present::comments(state, viewer, rows).await?,
        next_cursor: next,
    }))
}

#[utoipa::path(get, path = "/api/comments/{id}/replies", tag = "comments", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Top-level comment id"), CursorQuery),
    responses(
        (status = 200, description = "Replies, oldest first", body = CommentPage),
        (status = 404, description = "No such comment", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn replies(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, comment_not_found)?;
    let (after, limit) = query.validate::<TimeKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    let who = viewer.clone();
    let rows = state
        .db
        .run(move |conn| {
            match db::comments::find(conn, id)? {
                Some((_, video)) if video.visible_to(who.as_ref()) => {}
                _ => return Err(comment_not_found()),
            }
            Ok(db::comments::replies(conn, id, after, limit)?)
        })
        .await?;
    page(&state, viewer.as_ref(), rows, limit).await
}

#[utoipa::path(delete, path = "/api/comments/{id}", tag = "comments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Comment id")),
    responses(
        (status = 204, description = "Deleted (one with replies stays as `deleted: true, text: null`)"),
        (status = 403, description = "Neither its author, the video's owner nor an admin", body = ErrorEnvelope),
        (status = 404, description = "No such comment", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, comment_not_found)?;
    let me = Person::of(&user);
    let admin = user.is_admin();
    state
        .db
        .run(move |conn| {
            let (comment, video) = db::comments::find(conn, id)?
                .filter(|(c, v)| !c.deleted && v.visible_to(Some(&me)))
                .ok_or_else(comment_not_found)?;
            if comment.author() != me && video.author() != me && !admin {
                return Err(ApiError::Forbidden(
                    "Only its author, the video's owner or an admin may delete a comment"
                        .to_owned(),
                ));
            }
            if db::comments::delete(conn, id)? {
                Ok(())
            } else {
                Err(comment_not_found())
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_like(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    like: bool,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, comment_not_found)?;
    let me = Person::of(&user);
    let count = state
        .db
        .run(move |conn| db::comments::set_like(conn, id, &me, like))
        .await?
        .ok_or_else(comment_not_found)?;
    Ok(HttpResponse::Ok().json(LikeState {
        liked: like,
        like_count: count,
    }))
}

#[utoipa::path(put, path = "/api/comments/{id}/like", tag = "comments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Comment id")),
    responses(
        (status = 200, description = "Liked (again: no change)", body = LikeState),
        (status = 404, description = "No such comment", body = ErrorEnvelope),
    ))]
pub async fn like(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_like(state, user, path, true).await
}

#[utoipa::path(delete, path = "/api/comments/{id}/like", tag = "comments", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Comment id")),
    responses(
        (status = 200, description = "Not liked (again: no change)", body = LikeState),
        (status = 404, description = "No such comment", body = ErrorEnvelope),
    ))]
pub async fn unlike(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_like(state, user, path, false).await
}
