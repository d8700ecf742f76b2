//! Feeds and discovery: the following feed, hashtags and caption search.

use actix_web::{web, HttpResponse};
use common::pagination::{encode_cursor, CursorQuery};
use common::tokens::{AuthUser, MaybeUser};
use common::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

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

/// Where a trending walk is: its snapshot and the last rank given.
type TrendingKey = (i64, i32);

/// Where a for-you walk is: a session of the caller's own, or (anonymous) trending.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum ForYouKey {
    Session(Uuid, i32),
    Trending(i64, i32),
}

fn expired() -> ApiError {
    ApiError::validation("cursor", "has expired: start the feed again without one")
}

/// The newest trending snapshot, computed now if there is none recent.
async fn current_snapshot(state: &AppState) -> Result<i64, ApiError> {
    if let Some(id) = state.ranking.current() {
        return Ok(id);
    }
    let refresh = i64::try_from(state.settings.trending_refresh_secs).unwrap_or(60);
    let id = state
        .db
        .run(move |conn| {
            // A snapshot up to two refreshes old is current; the task makes one a minute.
            match db::trending::fresh_snapshot(conn, refresh * 2)? {
                Some(id) => Ok(id),
                None => Ok(db::trending::refresh(conn, refresh - 1)?),
            }
        })
        .await?;
    state.ranking.set_current(id);
    Ok(id)
}

async fn trending_walk(
    state: &AppState,
    viewer: Option<&Person>,
    key: Option<TrendingKey>,
    limit: i64,
) -> Result<(Vec<crate::dto::VideoDto>, Option<TrendingKey>), ApiError> {
    let (snapshot, after) = match key {
        Some(key) => key,
        None => (current_snapshot(state).await?, 0),
    };
    let page_key = (snapshot, after, limit);
    let rows = match state.ranking.page(&page_key) {
        Some(rows) => rows,
        None => {
            let rows = state
                .db
                .run(move |conn| {
                    if !db::trending::snapshot_exists(conn, snapshot)? {
                        return Err(expired());
                    }
                    Ok(db::trending::trending_page(conn, snapshot, after, limit)?)
                })
                .await?;
            let rows = std::sync::Arc::new(rows);
            state.ranking.put_page(page_key, rows.clone());
            rows
        }
    };
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|(rank, _)| (snapshot, *rank)))
        .flatten();
    let videos = rows.iter().map(|(_, v)| v.clone()).collect();
    Ok((present::videos(state, viewer, videos).await?, next))
}

#[utoipa::path(get, path = "/api/feed/trending", tag = "feed", security((), ("bearer" = [])),
    params(CursorQuery),
    responses(
        (status = 200, description = "Ready videos of the last 30 days by trending score (see the README), ranked every minute; a cursor keeps walking the ranking it started on", body = VideoPage),
        (status = 422, description = "Invalid or expired cursor, or invalid limit", body = ErrorEnvelope),
    ))]
pub async fn trending(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, limit) = query.validate::<TrendingKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    // Everyone signed out sees the same page: it is sent as it was written,
    // for as long as the page itself is held.
    let key = match key {
        Some(key) => key,
        None => (current_snapshot(&state).await?, 0),
    };
    let page_key = (key.0, key.1, limit);
    if viewer.is_none() {
        if let Some(body) = state.ranking.body(&page_key) {
            return Ok(json_body(body));
        }
    }
    let (items, next) = trending_walk(&state, viewer.as_ref(), Some(key), limit).await?;
    let page = VideoPage {
        items,
        next_cursor: next.map(|k| encode_cursor(&k)),
    };
    if viewer.is_some() {
        return Ok(HttpResponse::Ok().json(page));
    }
    let body =
        bytes::Bytes::from(serde_json::to_vec(&page).map_err(|e| ApiError::Internal(e.into()))?);
    state.ranking.put_body(page_key, body.clone());
    Ok(json_body(body))
}

fn json_body(body: bytes::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body)
}

#[utoipa::path(get, path = "/api/feed/for-you", tag = "feed", security((), ("bearer" = [])),
    params(CursorQuery),
    responses(
        (status = 200, description = "Signed in: trending blended with the caller's affinity (creators followed, hashtags of liked videos), without their own videos and what they viewed or this feed gave them in the last 7 days; the same cursor gives the same page. Anonymous: trending", body = VideoPage),
        (status = 422, description = "Invalid or expired cursor, or invalid limit", body = ErrorEnvelope),
    ))]
pub async fn for_you(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, limit) = query.validate::<ForYouKey>()?;
    let Some(me) = user.0.as_ref().map(Person::of) else {
        let key = match key {
            None => None,
            Some(ForYouKey::Trending(snapshot, rank)) => Some((snapshot, rank)),
            Some(ForYouKey::Session(..)) => return Err(expired()),
        };
        let (items, next) = trending_walk(&state, None, key, limit).await?;
        return Ok(HttpResponse::Ok().json(VideoPage {
            items,
            next_cursor: next.map(|(s, r)| encode_cursor(&ForYouKey::Trending(s, r))),
        }));
    };
    let (session, after) = match key {
        Some(ForYouKey::Session(session, rank)) => (session, rank),
        Some(ForYouKey::Trending(..)) => return Err(expired()),
        None => {
            let snapshot = current_snapshot(&state).await?;
            let who = me.clone();
            let session = state
                .db
                .run(move |conn| Ok(db::trending::start_session(conn, &who, snapshot)?))
                .await?;
            (session, 0)
        }
    };
    let who = me.clone();
    let rows = state
        .db
        .run(move |conn| {
            if !db::trending::session_of(conn, session, &who)? {
                return Err(expired());
            }
            Ok(db::trending::foryou_page(
                conn, session, &who, after, limit,
            )?)
        })
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| {
            rows.last()
                .map(|(rank, _)| ForYouKey::Session(session, *rank))
        })
        .flatten();
    let videos = rows.into_iter().map(|(_, v)| v).collect();
    Ok(HttpResponse::Ok().json(VideoPage {
        items: present::videos(&state, Some(&me), videos).await?,
        next_cursor: next.map(|k| encode_cursor(&k)),
    }))
}
