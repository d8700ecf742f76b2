//! Per-user watchlist and favorites: the same routes under `/api/watchlist` and
//! `/api/favorites`. Saving checks the title exists upstream and keeps a snapshot
//! of its title and poster, so listing never calls TMDB.

use actix_web::{web, HttpResponse};
use common::domain::whole_number;
use common::net::ClientIp;
use common::pagination::Page;
use common::tokens::AuthUser;
use common::ApiError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::doc::SavedList;
use super::dto::{ErrorEnvelope, SavedTitleDto, SavedTitlePage};
use crate::db::models::NewSavedTitle;
use crate::db::{self, Owner};
use crate::domain::params::Checker;
use crate::domain::MediaType;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SavedListParams {
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Only movies or only TV shows.
    #[param(value_type = Option<MediaType>, inline)]
    pub media_type: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SaveRequest {
    /// TMDB id.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 2147483647)]
    pub tmdb_id: Option<i64>,
    /// `movie` or `tv` (`contentType` is accepted too).
    #[serde(alias = "contentType")]
    #[schema(value_type = MediaType, required = true)]
    pub media_type: Option<String>,
}

/// `watchlist` or `favorites`, from the path.
fn list_name(raw: &str) -> &'static str {
    if raw == "favorites" {
        "favorites"
    } else {
        "watchlist"
    }
}

fn missing(list: &str) -> ApiError {
    ApiError::NotFound(format!(
        "Title not in your {}",
        if list == "favorites" {
            "favorites"
        } else {
            "watchlist"
        }
    ))
}

/// The `{mediaType}/{tmdbId}` of a path, checked.
fn title_ref(media: &str, tmdb_id: &str) -> Result<(MediaType, i64), ApiError> {
    let mut check = Checker::new();
    let media = check.media_type("mediaType", Some(media));
    let id = check.id("tmdbId", tmdb_id);
    check.finish()?;
    Ok((media.unwrap_or(MediaType::Movie), id))
}

#[utoipa::path(get, path = "/api/{list}", tag = "lists", security(("bearer" = [])),
    params(("list" = inline(SavedList), Path, description = "watchlist or favorites"), SavedListParams),
    responses(
        (status = 200, description = "The caller's titles, newest first", body = SavedTitlePage),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
        (status = 422, description = "Invalid page, limit or mediaType", body = ErrorEnvelope),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    params: web::Query<SavedListParams>,
) -> Result<HttpResponse, ApiError> {
    let list = list_name(&path);
    let mut check = Checker::new();
    let page = check.paging(params.page, params.limit);
    let media = match params.media_type.as_deref() {
        None => None,
        raw => check.media_type("mediaType", raw),
    };
    check.finish()?;
    let owner = Owner::from(&user);
    let (rows, total) = state
        .db
        .run(move |conn| db::saved::page(conn, &owner, list, media.map(MediaType::as_str), page))
        .await?;
    let base = state.catalog.image_base();
    let items = rows
        .into_iter()
        .map(|r| SavedTitleDto::new(r, base))
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(items, page, total)))
}

#[utoipa::path(post, path = "/api/{list}", tag = "lists", security(("bearer" = [])),
    params(("list" = inline(SavedList), Path, description = "watchlist or favorites")),
    request_body = SaveRequest,
    responses(
        (status = 201, description = "Saved", body = SavedTitleDto),
        (status = 200, description = "Already saved", body = SavedTitleDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "No such title at TMDB", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid tmdbId or mediaType", body = ErrorEnvelope),
        (status = 429, description = "Too many TMDB lookups (cache misses) from this address", body = ErrorEnvelope),
        (status = 503, description = "TMDB unavailable and the title not cached", body = ErrorEnvelope),
    ))]
pub async fn save(
    state: web::Data<AppState>,
    user: AuthUser,
    client: ClientIp,
    path: web::Path<String>,
    body: common::Json<SaveRequest>,
) -> Result<HttpResponse, ApiError> {
    let list = list_name(&path);
    let body = body.into_inner();
    let mut check = Checker::new();
    let tmdb_id = match body.tmdb_id {
        Some(id) if id > 0 && id <= i64::from(i32::MAX) => Some(id),
        Some(_) => {
            check.add("tmdbId", "must be a positive integer");
            None
        }
        None => {
            check.add("tmdbId", "is required");
            None
        }
    };
    let media = check.media_type("mediaType", body.media_type.as_deref());
    check.finish()?;
    let (Some(tmdb_id), Some(media)) = (tmdb_id, media) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let owner = Owner::from(&user);
    let lookup = owner.clone();
    let existing = state
        .db
        .run(move |conn| db::saved::find(conn, &lookup, list, media.as_str(), tmdb_id))
        .await?;
    let base = state.catalog.image_base();
    if let Some(row) = existing {
        return Ok(HttpResponse::Ok().json(SavedTitleDto::new(row, base)));
    }
    let (title, poster_path) = state
        .catalog
        .title_snapshot(media, tmdb_id, &client)
        .await?;
    let new = NewSavedTitle {
        id: uuid::Uuid::now_v7(),
        owner_issuer: owner.issuer.clone(),
        owner_subject: owner.subject.clone(),
        list: list.to_owned(),
        media_type: media.as_str().to_owned(),
        tmdb_id,
        title,
        poster_path,
    };
    let (created, row) = state
        .db
        .run(move |conn| match db::saved::insert_if_absent(conn, &new)? {
            Some(row) => Ok((true, row)),
            // Saved by a parallel request a moment ago.
            None => db::saved::find(conn, &owner, list, media.as_str(), tmdb_id)?
                .map(|row| (false, row))
                .ok_or_else(|| missing(list)),
        })
        .await?;
    let dto = SavedTitleDto::new(row, base);
    Ok(if created {
        HttpResponse::Created().json(dto)
    } else {
        HttpResponse::Ok().json(dto)
    })
}

#[utoipa::path(get, path = "/api/{list}/{mediaType}/{tmdbId}", tag = "lists", security(("bearer" = [])),
    params(
        ("list" = inline(SavedList), Path, description = "watchlist or favorites"),
        ("mediaType" = inline(MediaType), Path, description = "movie or tv"),
        ("tmdbId" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id")),
    responses(
        (status = 200, description = "The saved title", body = SavedTitleDto),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "Not in the caller's list", body = ErrorEnvelope),
        (status = 422, description = "Invalid mediaType or tmdbId", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (list, media, tmdb_id) = path.into_inner();
    let list = list_name(&list);
    let (media, tmdb_id) = title_ref(&media, &tmdb_id)?;
    let owner = Owner::from(&user);
    let row = state
        .db
        .run(move |conn| db::saved::find(conn, &owner, list, media.as_str(), tmdb_id))
        .await?
        .ok_or_else(|| missing(list))?;
    Ok(HttpResponse::Ok().json(SavedTitleDto::new(row, state.catalog.image_base())))
}

#[utoipa::path(delete, path = "/api/{list}/{mediaType}/{tmdbId}", tag = "lists", security(("bearer" = [])),
    params(
        ("list" = inline(SavedList), Path, description = "watchlist or favorites"),
        ("mediaType" = inline(MediaType), Path, description = "movie or tv"),
        ("tmdbId" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "Not in the caller's list", body = ErrorEnvelope),
        (status = 422, description = "Invalid mediaType or tmdbId", body = ErrorEnvelope),
    ))]
pub async fn remove(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (list, media, tmdb_id) = path.into_inner();
    let list = list_name(&list);
    let (media, tmdb_id) = title_ref(&media, &tmdb_id)?;
    let owner = Owner::from(&user);
    let removed = state
        .db
        .run(move |conn| db::saved::delete(conn, &owner, list, media.as_str(), tmdb_id))
        .await?;
    if removed == 0 {
        return Err(missing(list));
    }
    Ok(HttpResponse::NoContent().finish())
}
