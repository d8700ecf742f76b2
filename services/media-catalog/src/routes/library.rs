//! The personal movie library: CRUD with page/limit, a title filter, a year filter
//! and sorting. Another user's movie answers 404, like one that does not exist.

use actix_web::{web, HttpResponse};
use common::domain::{double_option, double_option_whole_number, optional_text, ImageUrl};
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
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Part of the title, case-insensitive (at most 200 characters; blank: all).
    #[param(format = "text-or-blank", max_length = 200)]
    pub q: Option<String>,
    /// Only movies of this year, 1888-2100.
    #[param(minimum = 1888, maximum = 2100)]
    pub year: Option<i64>,
    /// The order (default `-createdAt`).
    #[param(schema_with = super::doc::library_sorts)]
    pub sort: Option<String>,
}

/// `POST` and `PUT` need `title` and `year`; `PATCH` takes any of the three, and
/// `imageUrl: null` removes the URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovieRequest {
    /// Up to 200 characters, not only white space.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = "text", max_length = 200)]
    pub title: Option<Option<String>>,
    /// From 1888 to next year + 5.
    #[serde(default, deserialize_with = "double_option_whole_number")]
    #[schema(value_type = i64, minimum = 1888)]
    pub year: Option<Option<i64>>,
    /// An http(s) URL of a poster image, at most 2048 characters; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "image-url", max_length = 2048)]
    pub image_url: Option<Option<String>>,
}

/// `POST` and `PUT`: a whole movie.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "documentation only")]
pub struct NewMovieRequest {
    /// Up to 200 characters, not only white space.
    #[schema(format = "text", max_length = 200)]
    title: String,
    /// From 1888 to next year + 5.
    #[schema(minimum = 1888)]
    year: i64,
    /// An http(s) URL of a poster image, at most 2048 characters.
    #[schema(value_type = Option<String>, format = "image-url", max_length = 2048)]
    image_url: Option<String>,
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
    let q = match params
        .q
        .as_deref()
        .map(|q| optional_text(q, MAX_QUERY_CHARS))
    {
        Some(Ok(q)) => q,
        Some(Err(e)) => {
            check.add("q", e);
            None
        }
        None => None,
    };
    // A filter: any plausible year (no movie of 2100 is simply an empty page).
    let year = params.year.and_then(|y| match i32::try_from(y) {
        Ok(year) if (ReleaseYear::FIRST..=2100).contains(&y) => Some(year),
        _ => {
            check.add(
                "year",
                format!("must be between {} and 2100", ReleaseYear::FIRST),
            );
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
    request_body = NewMovieRequest,
    responses(
        (status = 201, description = "Added", body = LibraryMovieDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid title, year or imageUrl", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<MovieRequest>,
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
    request_body = NewMovieRequest,
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
    body: common::Json<MovieRequest>,
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
    body: common::Json<MovieRequest>,
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
