//! Feeds and discovery: the following feed, hashtags and caption search.

use actix_web::{web, HttpResponse};
use common::pagination::CursorQuery;
use common::tokens::{AuthUser, MaybeUser};
use common::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{next_cursor, TimeKey};
use crate::db;
use crate::db::models::Video;
use crate::domain::{tag_of, Person};
use crate::dto::{ErrorEnvelope, TagCount, TagList, VideoPage};
use crate::present;
use crate::state::AppState;

async fn video_page(
    state: &AppState,
    viewer: Option<&Person>,
    rows: Vec<Video>,
    limit: i64,
) -> Result<HttpResponse, ApiError> {
    let next = next_cursor(&rows, limit, |v| (v.created_at, v.id));
    Ok(HttpResponse::Ok().json(VideoPage {
        items: present::videos(state, viewer, rows).await?,
        next_cursor: next,
    }))
}

#[utoipa::path(get, path = "/api/feed/following", tag = "feed", security(("bearer" = [])),
    params(CursorQuery),
    responses(
        (status = 200, description = "Ready videos of the creators the caller follows, newest first", body = VideoPage),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn following(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (before, limit) = query.validate::<TimeKey>()?;
    let me = Person::of(&user);
    let who = me.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::videos::following_feed(conn, &who, before, limit)?))
        .await?;
    video_page(&state, Some(&me), rows, limit).await
}

#[utoipa::path(get, path = "/api/tags/{tag}/videos", tag = "tags", security((), ("bearer" = [])),
    params(("tag" = String, Path, description = "A hashtag, with or without `#`, any case"), CursorQuery),
    responses(
        (status = 200, description = "Ready videos carrying it, newest first", body = VideoPage),
        (status = 404, description = "Not a hashtag", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn by_tag(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let tag = tag_of(&path).ok_or_else(|| ApiError::not_found("Hashtag"))?;
    let (before, limit) = query.validate::<TimeKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    let rows = state
        .db
        .run(move |conn| Ok(db::videos::by_tag(conn, &tag, before, limit)?))
        .await?;
    video_page(&state, viewer.as_ref(), rows, limit).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendingTagsQuery {
    /// How many, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/tags/trending", tag = "tags",
    params(TrendingTagsQuery),
    responses(
        (status = 200, description = "The hashtags on the most ready videos of the last 7 days", body = TagList),
        (status = 422, description = "Invalid limit", body = ErrorEnvelope),
    ))]
pub async fn trending_tags(
    state: web::Data<AppState>,
    query: web::Query<TrendingTagsQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::validation("limit", "must be between 1 and 100"));
    }
    let rows = state
        .db
        .run(move |conn| Ok(db::videos::trending_tags(conn, limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(TagList {
        items: rows
            .into_iter()
            .map(|r| TagCount {
                tag: r.tag,
                video_count: r.count,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find in captions (all of them), up to 200 characters.
    #[param(required = true, max_length = 200, format = "words")]
    pub q: Option<String>,
    /// Opaque cursor from the previous page's `nextCursor`.
    #[param(max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/videos/search", tag = "videos", security((), ("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Ready videos whose caption holds every word, newest first", body = VideoPage),
        (status = 422, description = "Missing or invalid q, cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn search(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let q = match query.q.as_deref() {
        None => return Err(ApiError::validation("q", "is required")),
        Some(raw) => common::domain::words(raw, 200).map_err(|e| ApiError::validation("q", &e))?,
    };
    let (before, limit) = CursorQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .validate::<TimeKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    let rows = state
        .db
        .run(move |conn| Ok(db::videos::search(conn, &q, before, limit)?))
        .await?;
    video_page(&state, viewer.as_ref(), rows, limit).await
}
