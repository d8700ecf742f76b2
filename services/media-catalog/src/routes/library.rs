//! The personal movie library: CRUD with page/limit, a title filter, a year filter
//! and sorting. Another user's movie answers 404, like one that does not exist.

use actix_web::{web, HttpResponse};
use common::domain::{double_option, ImageUrl};
use common::pagination::Page;
use common::tokens::AuthUser;
use common::ApiError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::{ErrorEnvelope, LibraryMovieDto, LibraryPage};
use crate::db::library::{LibraryFilter, LibrarySort, MovieChanges};
use crate::db::models::NewLibraryMovie;
use crate::db::{self, Owner};
use crate::domain::params::{Checker, MAX_QUERY_CHARS};
use crate::domain::{MovieTitle, ReleaseYear};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LibraryListParams {
    /// Page number, from 1.
    pub page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    pub limit: Option<i64>,
    /// Part of the title, case-insensitive (1-200 characters).
    pub q: Option<String>,
    pub year: Option<i64>,
    /// createdAt, -createdAt (default), title, -title, year, -year.
    pub sort: Option<String>,
}

/// `POST` and `PUT` need `title` and `year`; `PATCH` takes any of the three, and
/// `imageUrl: null` removes the URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovieRequest {
    /// 1-200 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// 1888 to five years ahead.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub year: Option<Option<i64>>,
    /// An http(s) URL of a poster image.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub image_url: Option<Option<String>>,
}

/// The movie id of a path; anything that is not a UUID cannot exist.
pub(crate) fn movie_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| not_found())
}

pub(crate) fn not_found() -> ApiError {
    ApiError::not_found("Movie")
}

/// Checks a body: `complete` (POST, PUT) requires title and year.
fn changes_of(body: MovieRequest, complete: bool) -> Result<MovieChanges, ApiError> {
    let mut check = Checker::new();
    let mut changes = MovieChanges::default();
    match body.title {
        Some(Some(raw)) => match MovieTitle::parse(&raw) {
            Ok(title) => changes.title = Some(title.into_inner()),
            Err(e) => check.add("title", e),
        },
        Some(None) => check.add("title", "must not be null"),
        None if complete => check.add("title", "is required"),
        None => {}
    }
    match body.year {
        Some(Some(raw)) => match ReleaseYear::parse(raw) {
            Ok(year) => changes.year = Some(year.get()),
            Err(e) => check.add("year", e),
        },
        Some(None) => check.add("year", "must not be null"),
        None if complete => check.add("year", "is required"),
        None => {}
    }
    match body.image_url {
        Some(Some(raw)) => match ImageUrl::parse(&raw) {
            Ok(url) => changes.image_url = Some(Some(url.into_inner())),
            Err(e) => check.add("imageUrl", e),
        },
        Some(None) => changes.image_url = Some(None),
        // A PUT replaces the whole movie: no URL given means none.
        None if complete => changes.image_url = Some(None),
        None => {}
    }
    check.finish()?;
    Ok(changes)
}

#[utoipa::path(get, path = "/api/library/movies", tag = "library", security(("bearer" = [])),
    params(LibraryListParams),
    responses(
        (status = 200, description = "A page of the caller's movies", body = LibraryPage),
        (status = 400, description = "page, limit or year is not a number", body = ErrorEnvelope),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
        (status = 422, description = "Invalid page, limit, q, year or sort", body = ErrorEnvelope),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    params: web::Query<LibraryListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let mut check = Checker::new();
    let page = check.paging(params.page, params.limit);
    let q = params
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if q.as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
    {
        check.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"));
    }
    let year = params.year.and_then(|y| match ReleaseYear::parse(y) {
        Ok(year) => Some(year.get()),
        Err(e) => {
            check.add("year", e);
            None
        }
    });
    let sort = match params.sort.as_deref() {
        None => LibrarySort::CreatedAtDesc,
        Some(raw) => LibrarySort::parse(raw).unwrap_or_else(|| {
            check.add(
                "sort",
                format!("must be one of {}", LibrarySort::ACCEPTED.join(", ")),
            );
            LibrarySort::CreatedAtDesc
        }),
    };
    check.finish()?;
    let owner = Owner::from(&user);
    let filter = LibraryFilter { q, year, sort };
    let (rows, total) = state
        .db
        .run(move |conn| db::library::page(conn, &owner, &filter, page))
        .await?;
    let items = rows.into_iter().map(LibraryMovieDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, page, total)))
}

#[utoipa::path(post, path = "/api/library/movies", tag = "library", security(("bearer" = [])),
    request_body = MovieRequest,
    responses(
        (status = 201, description = "Added", body = LibraryMovieDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid title, year or imageUrl", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<MovieRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), true)?;
    let owner = Owner::from(&user);
    let new = NewLibraryMovie {
        id: Uuid::now_v7(),
        owner_issuer: owner.issuer,
        owner_subject: owner.subject,
        title: changes.title.unwrap_or_default(),
        year: changes.year.unwrap_or_default(),
        image_url: changes.image_url.flatten(),
    };
    let row = state
        .db
        .run(move |conn| db::library::insert(conn, &new))
        .await?;
    Ok(HttpResponse::Created().json(LibraryMovieDto::from(row)))
}

#[utoipa::path(get, path = "/api/library/movies/{id}", tag = "library", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Movie id")),
    responses(
        (status = 200, description = "The movie", body = LibraryMovieDto),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "No such movie in the caller's library", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = movie_id(&path)?;
    let owner = Owner::from(&user);
    let row = state
        .db
        .run(move |conn| db::library::find(conn, &owner, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(LibraryMovieDto::from(row)))
}

async fn apply(
    state: &AppState,
    user: &AuthUser,
    raw_id: &str,
    changes: MovieChanges,
) -> Result<HttpResponse, ApiError> {
    let id = movie_id(raw_id)?;
    let owner = Owner::from(user);
    let row = state
        .db
        .run(move |conn| db::library::update(conn, &owner, id, &changes))
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(LibraryMovieDto::from(row)))
}

#[utoipa::path(put, path = "/api/library/movies/{id}", tag = "library", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Movie id")),
    request_body = MovieRequest,
    responses(
        (status = 200, description = "Replaced", body = LibraryMovieDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 404, description = "No such movie in the caller's library", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid title, year or imageUrl", body = ErrorEnvelope),
    ))]
pub async fn replace(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: web::Json<MovieRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), true)?;
    apply(&state, &user, &path, changes).await
}

#[utoipa::path(patch, path = "/api/library/movies/{id}", tag = "library", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Movie id")),
    request_body = MovieRequest,
    responses(
        (status = 200, description = "Updated", body = LibraryMovieDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 404, description = "No such movie in the caller's library", body = ErrorEnvelope),
        (status = 422, description = "Invalid title, year or imageUrl", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: web::Json<MovieRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), false)?;
    apply(&state, &user, &path, changes).await
}

#[utoipa::path(delete, path = "/api/library/movies/{id}", tag = "library", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Movie id")),
    responses(
        (status = 204, description = "Deleted, with its poster images"),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "No such movie in the caller's library", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = movie_id(&path)?;
    let owner = Owner::from(&user);
    let row = state
        .db
        .run(move |conn| db::library::delete(conn, &owner, id))
        .await?
        .ok_or_else(not_found)?;
    if row.poster_etag.is_some() {
        if let Err(e) = state.posters.delete(id).await {
            // The row is gone; an orphaned image is logged for cleanup, not an error.
            tracing::error!(movie.id = %id, error = %e, "poster images not deleted");
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
