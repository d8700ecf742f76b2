//! Videos: posting one hosted elsewhere, reading, captions, deleting, likes, and
//! a profile's grid.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use common::idempotency::{self, IdempotencyHeader, IdempotencyKey};
use common::net::ClientIp;
use common::pagination::CursorQuery;
use common::ratelimit::Limit;
use common::tokens::{AuthUser, MaybeUser};
use common::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{next_cursor, users::resolve_subject, uuid_of, TimeKey};
use crate::db;
use crate::domain::{media_url, Caption, Person};
use crate::dto::{ErrorEnvelope, LikeState, VideoDto, VideoPage, ViewResult};
use crate::errors::{user_not_found, video_not_found};
use crate::present;
use crate::state::AppState;
use crate::views::Viewer;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateVideo {
    /// Up to 2,200 characters, line breaks allowed, may be blank; `#hashtags`
    /// (at most 30) are taken from it.
    #[schema(value_type = String, required = true, format = "multiline-or-blank", max_length = 2200)]
    pub caption: Option<String>,
    /// Where the video is hosted: an http(s) URL.
    #[schema(value_type = String, required = true, format = "image-url", max_length = 2048)]
    pub video_url: Option<String>,
    /// Its poster image, if any: an http(s) URL.
    #[schema(value_type = Option<String>, format = "image-url", max_length = 2048)]
    pub poster_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchVideo {
    /// The new caption (its hashtags replace the old ones).
    #[schema(value_type = String, required = true, format = "multiline-or-blank", max_length = 2200)]
    pub caption: Option<String>,
}

fn caption_of(raw: Option<String>, errors: &mut common::FieldErrors) -> Option<Caption> {
    match raw {
        None => {
            errors.add("caption", "is required");
            None
        }
        Some(raw) => Caption::parse(&raw)
            .map_err(|e| errors.add("caption", e))
            .ok(),
    }
}

pub fn video_limit(state: &AppState) -> Limit {
    Limit::per_hour("social-videos", state.settings.videos_per_user_per_hour)
}

fn key_of(person: &Person) -> String {
    format!("{}:{}", person.issuer, person.subject)
}

#[utoipa::path(post, path = "/api/videos", tag = "videos", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body = CreateVideo,
    responses(
        (status = 201, description = "Created, ready at once (`source: external`); a replay of an Idempotency-Key carries `Idempotent-Replayed: true`", body = VideoDto),
        (status = 409, description = "A request with this Idempotency-Key is still running", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid caption or URLs, or an Idempotency-Key used with another request", body = ErrorEnvelope),
        (status = 429, description = "Too many videos this hour", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    body: common::Json<CreateVideo>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let me = Person::of(&user);
    let fingerprint = idempotency::fingerprint(&body)?;
    idempotency::run(&state.db, &key, &key_of(&me), fingerprint, || async {
        let mut errors = common::FieldErrors::new();
        let caption = caption_of(body.caption, &mut errors);
        let url = match body.video_url {
            None => {
                errors.add("videoUrl", "is required");
                None
            }
            Some(raw) => media_url(&raw).map_err(|e| errors.add("videoUrl", e)).ok(),
        };
        let poster = match body.poster_url {
            None => None,
            Some(raw) => media_url(&raw).map_err(|e| errors.add("posterUrl", e)).ok(),
        };
        errors.into_result()?;
        let (Some(caption), Some(url)) = (caption, url) else {
            return Err(ApiError::internal("validated fields missing"));
        };
        state
            .limiter
            .check(&video_limit(&state), &key_of(&me))
            .await?;
        let author = me.clone();
        let video = state
            .db
            .run(move |conn| {
                db::videos::create_external(conn, &author, &caption, &url, poster.as_deref())
            })
            .await?;
        Ok((
            StatusCode::CREATED,
            present::video(&state, Some(&me), video).await?,
        ))
    })
    .await
}

/// The video, if `viewer` may see it.
async fn visible(
    state: &AppState,
    id: Uuid,
    viewer: Option<&Person>,
) -> Result<crate::db::models::Video, ApiError> {
    state
        .db
        .run(move |conn| Ok(db::videos::find(conn, id)?))
        .await?
        .filter(|v| v.visible_to(viewer))
        .ok_or_else(video_not_found)
}

#[utoipa::path(get, path = "/api/videos/{id}", tag = "videos", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    responses(
        (status = 200, description = "The video (others see ready videos only)", body = VideoDto),
        (status = 404, description = "No such video, or not ready and not the caller's", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.as_ref().map(Person::of);
    let video = visible(&state, uuid_of(&path, video_not_found)?, viewer.as_ref()).await?;
    Ok(HttpResponse::Ok().json(present::video(&state, viewer.as_ref(), video).await?))
}

#[utoipa::path(patch, path = "/api/videos/{id}", tag = "videos", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    request_body = PatchVideo,
    responses(
        (status = 200, description = "The video with its new caption and hashtags", body = VideoDto),
        (status = 404, description = "No such video among the caller's", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid caption", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: common::Json<PatchVideo>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, video_not_found)?;
    let mut errors = common::FieldErrors::new();
    let caption = caption_of(body.into_inner().caption, &mut errors);
    errors.into_result()?;
    let Some(caption) = caption else {
        return Err(ApiError::internal("validated caption missing"));
    };
    let me = Person::of(&user);
    let author = me.clone();
    let video = state
        .db
        .run(move |conn| db::videos::update_caption(conn, id, &author, &caption))
        .await?
        .ok_or_else(video_not_found)?;
    Ok(HttpResponse::Ok().json(present::video(&state, Some(&me), video).await?))
}

#[utoipa::path(delete, path = "/api/videos/{id}", tag = "videos", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    responses(
        (status = 204, description = "Deleted with its comments, likes, notifications and stored media"),
        (status = 404, description = "No such video among the caller's (admins: any)", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, video_not_found)?;
    let me = Person::of(&user);
    let video = state
        .db
        .run(move |conn| Ok(db::videos::find(conn, id)?))
        .await?
        .ok_or_else(video_not_found)?;
    if video.author() != me && !user.is_admin() {
        return Err(video_not_found());
    }
    let deleted = state
        .db
        .run(move |conn| db::videos::delete(conn, id))
        .await?
        .ok_or_else(video_not_found)?;
    state.ready_uploads.invalidate(&id);
    if deleted.source == crate::db::models::UPLOAD {
        // The row is gone: nothing links to these any more. What a running
        // processing attempt stores after this, it removes itself.
        if let Err(e) = state
            .storage
            .delete_prefix(&crate::processing::keys::folder(id))
            .await
        {
            tracing::warn!(video = %id, error = %e, "a deleted video's objects were left behind");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn set_like(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    like: bool,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, video_not_found)?;
    let me = Person::of(&user);
    let (count, notice) = state
        .db
        .run(move |conn| db::videos::set_like(conn, id, &me, like))
        .await?
        .ok_or_else(video_not_found)?;
    state.notifier.announce(notice.as_slice()).await;
    Ok(HttpResponse::Ok().json(LikeState {
        liked: like,
        like_count: count,
    }))
}

#[utoipa::path(put, path = "/api/videos/{id}/like", tag = "videos", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    responses(
        (status = 200, description = "Liked (again: no change)", body = LikeState),
        (status = 404, description = "No such video", body = ErrorEnvelope),
    ))]
pub async fn like(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_like(state, user, path, true).await
}

#[utoipa::path(delete, path = "/api/videos/{id}/like", tag = "videos", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    responses(
        (status = 200, description = "Not liked (again: no change)", body = LikeState),
        (status = 404, description = "No such video", body = ErrorEnvelope),
    ))]
pub async fn unlike(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_like(state, user, path, false).await
}

#[utoipa::path(post, path = "/api/videos/{id}/views", tag = "videos", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Video id")),
    responses(
        (status = 202, description = "Taken: counted at most once per viewer (the user, else address and user agent) in 30 minutes, and written to the counters within seconds", body = ViewResult),
        (status = 404, description = "No such video", body = ErrorEnvelope),
    ))]
pub async fn view(
    state: web::Data<AppState>,
    user: MaybeUser,
    address: ClientIp,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, video_not_found)?;
    let person = user.0.as_ref().map(Person::of);
    visible(&state, id, person.as_ref()).await?;
    let viewer = match person {
        Some(person) => Viewer::User(person),
        None => Viewer::Anonymous {
            address: address.0,
            agent: req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        },
    };
    let counted = state.views.record(id, &viewer).await?;
    Ok(HttpResponse::Accepted().json(ViewResult { counted }))
}

#[utoipa::path(get, path = "/api/users/{id}/videos", tag = "users", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "User id"), CursorQuery),
    responses(
        (status = 200, description = "The user's videos, newest first (their own unready ones for themselves)", body = VideoPage),
        (status = 404, description = "No such user", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn by_user(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (before, limit) = query.validate::<TimeKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    let (author, _) = resolve_subject(&state, &path, false)
        .await?
        .ok_or_else(user_not_found)?;
    let own = viewer.as_ref() == Some(&author);
    let rows = state
        .db
        .run(move |conn| Ok(db::videos::by_author(conn, &author, own, before, limit)?))
        .await?;
    let next = next_cursor(&rows, limit, |v| (v.created_at, v.id));
    Ok(HttpResponse::Ok().json(VideoPage {
        items: present::videos(&state, viewer.as_ref(), rows).await?,
        next_cursor: next,
    }))
}
