//! Browsing TMDB: lists, trending, discover, search, details and their
//! sub-resources, seasons, genres and the image configuration. Public routes;
//! every parameter is checked (422) before anything is asked of TMDB.

use actix_web::{web, HttpRequest, HttpResponse};
use common::ApiError;
use serde::Deserialize;
use utoipa::IntoParams;

use super::doc::{self, MediaPath, NamedList, Related};
use super::dto::ErrorEnvelope;
use crate::catalog::{details_query, CatalogQuery, Shape, TtlClass};
use crate::domain::params::Checker;
use crate::domain::MediaType;
use crate::state::AppState;
use crate::tmdb::normalize::{CatalogConfig, CatalogItem, Credits, Season, TitleDetails};

/// `movies` or `tv` in a path.
fn media_of(segment: &str) -> MediaType {
    if segment == "tv" {
        MediaType::Tv
    } else {
        MediaType::Movie
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1-500 (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub page: Option<String>,
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TrendingParams {
    /// `day` (default) or `week`.
    #[param(schema_with = doc::windows)]
    pub window: Option<String>,
    /// 1-500 (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub page: Option<String>,
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DiscoverParams {
    /// 1 to 10 comma-separated genre ids; a title must have all of them.
    #[param(pattern = "^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,9}$")]
    pub genre: Option<String>,
    /// Release year (TV: first air year), 1874-2100.
    #[param(value_type = Option<i64>, minimum = 1874, maximum = 2100)]
    pub year: Option<String>,
    /// The order (default `popularity.desc`).
    #[param(schema_with = doc::discover_sorts)]
    pub sort_by: Option<String>,
    /// Minimum average vote, 0-10.
    #[param(value_type = Option<f64>, minimum = 0, maximum = 10)]
    pub min_rating: Option<String>,
    /// 1-500 (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub page: Option<String>,
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Up to 200 characters, not only white space; case and spacing are ignored.
    #[param(value_type = String, required = true, format = "words", max_length = 200)]
    pub q: Option<String>,
    /// 1-500 (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub page: Option<String>,
    /// Only titles of this year, 1874-2100.
    #[param(value_type = Option<i64>, minimum = 1874, maximum = 2100)]
    pub year: Option<String>,
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

/// `/api/search` takes no year.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchAllParams {
    /// Up to 200 characters, not only white space; case and spacing are ignored.
    #[param(value_type = String, required = true, format = "words", max_length = 200)]
    pub q: Option<String>,
    /// 1-500 (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub page: Option<String>,
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DetailsParams {
    /// Sections to include: videos, credits, recommendations, similar (comma-separated).
    #[param(
        pattern = "^(videos|credits|recommendations|similar)(,(videos|credits|recommendations|similar))*$"
    )]
    pub append: Option<String>,
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ImageParams {
    /// Poster size of `posterUrl` (default w500).
    #[param(schema_with = doc::image_sizes)]
    pub image_size: Option<String>,
}

/// A page of catalog items.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documentation only")]
pub struct CatalogPage {
    items: Vec<CatalogItem>,
    meta: common::pagination::PageMeta,
}

#[utoipa::path(get, path = "/api/{media}/trending", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv"), TrendingParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "Trending titles; `Cache-Status`, `ETag`, `Cache-Control` set", body = CatalogPage),
        (status = 304, description = "`If-None-Match` matched the current ETag"),
        (status = 422, description = "Invalid window, page or imageSize", body = ErrorEnvelope),
        (status = 503, description = "TMDB unavailable and nothing cached (UPSTREAM_UNAVAILABLE)", body = ErrorEnvelope),
        (status = 504, description = "TMDB timed out and nothing cached (UPSTREAM_TIMEOUT)", body = ErrorEnvelope),
    ))]
pub async fn trending(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<TrendingParams>,
) -> Result<HttpResponse, ApiError> {
    let media = media_of(&path);
    let mut check = Checker::new();
    let window = check.window(params.window.as_deref());
    let page = check.page(params.page.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new(
        format!("trending/{}/{window}", media.as_str()),
        TtlClass::Trending,
        Shape::List(Some(media)),
    )
    .param("page", page)
    .image_size(size);
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/{media}/{list}", tag = "catalog",
    params(
        ("media" = inline(MediaPath), Path, description = "movies or tv"),
        ("list" = inline(NamedList), Path, description = "popular, top-rated; movies: now-playing, upcoming; tv: on-the-air, airing-today"),
        ListParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "A page of the list", body = CatalogPage),
        (status = 304, description = "`If-None-Match` matched the current ETag"),
        (status = 404, description = "No such list for this media type", body = ErrorEnvelope),
        (status = 422, description = "Invalid page or imageSize", body = ErrorEnvelope),
        (status = 503, description = "TMDB unavailable and nothing cached", body = ErrorEnvelope),
    ))]
pub async fn named_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let (media, list) = path.into_inner();
    let media = media_of(&media);
    let (upstream, class) = match (media, list.as_str()) {
        (_, "popular") => ("popular", TtlClass::Lists),
        (_, "top-rated") => ("top_rated", TtlClass::Lists),
        (MediaType::Movie, "now-playing") => ("now_playing", TtlClass::Current),
        (MediaType::Movie, "upcoming") => ("upcoming", TtlClass::Current),
        (MediaType::Tv, "on-the-air") => ("on_the_air", TtlClass::Current),
        (MediaType::Tv, "airing-today") => ("airing_today", TtlClass::Current),
        _ => return Err(ApiError::NotFound("No such route".to_owned())),
    };
    let mut check = Checker::new();
    let page = check.page(params.page.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new(
        format!("{}/{upstream}", media.as_str()),
        class,
        Shape::List(Some(media)),
    )
    .param("page", page)
    .image_size(size);
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/{media}/genres", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv")),
    responses(
        (status = 200, description = "`{items: [{id, name}]}`"),
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn genres(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let media = media_of(&path);
    let query = CatalogQuery::new(
        format!("genre/{}/list", media.as_str()),
        TtlClass::Reference,
        Shape::Genres,
    );
    state.catalog.respond(&req, query).await
}

/// TMDB's name of the release-year filter of discover and search.
fn year_param(media: MediaType) -> &'static str {
    match media {
        MediaType::Movie => "primary_release_year",
        MediaType::Tv => "first_air_date_year",
    }
}

/// TMDB's discover sort keys for our `sortBy` values.
fn discover_sort(media: MediaType, sort: &str) -> String {
    let (key, direction) = sort.split_once('.').unwrap_or((sort, "desc"));
    let key = match (key, media) {
        ("rating", _) => "vote_average",
        ("votes", _) => "vote_count",
        ("releaseDate", MediaType::Movie) => "primary_release_date",
        ("releaseDate", MediaType::Tv) => "first_air_date",
        ("title", MediaType::Movie) => "title",
        ("title", MediaType::Tv) => "name",
        _ => "popularity",
    };
    format!("{key}.{direction}")
}

#[utoipa::path(get, path = "/api/{media}/discover", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv"), DiscoverParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "Titles matching the filters", body = CatalogPage),
        (status = 422, description = "Invalid filter, sort or page", body = ErrorEnvelope),
    ))]
pub async fn discover(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<DiscoverParams>,
) -> Result<HttpResponse, ApiError> {
    let media = media_of(&path);
    let mut check = Checker::new();
    let genres = check.genres(params.genre.as_deref());
    let year = check.year("year", params.year.as_deref());
    let sort = check.sort_by(params.sort_by.as_deref());
    let min_rating = check.min_rating(params.min_rating.as_deref());
    let page = check.page(params.page.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new(
        format!("discover/{}", media.as_str()),
        TtlClass::Lists,
        Shape::List(Some(media)),
    )
    .param_opt("with_genres", genres)
    .param_opt(year_param(media), year)
    .param("sort_by", discover_sort(media, sort))
    .param_opt("vote_average.gte", min_rating)
    .param("page", page)
    .image_size(size);
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/{media}/search", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv"), SearchParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "Matching titles, most popular first", body = CatalogPage),
        (status = 422, description = "Missing or invalid q, page or year", body = ErrorEnvelope),
    ))]
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let media = media_of(&path);
    let mut check = Checker::new();
    let q = check.search_text(params.q.as_deref());
    let page = check.page(params.page.as_deref());
    let year = check.year("year", params.year.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new(
        format!("search/{}", media.as_str()),
        TtlClass::Search,
        Shape::List(Some(media)),
    )
    .param("query", q)
    .param("page", page)
    .param_opt(year_param(media), year)
    .image_size(size);
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/search", tag = "catalog",
    params(SearchAllParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "Movies and TV shows matching `q` (people are left out)", body = CatalogPage),
        (status = 422, description = "Missing or invalid q or page", body = ErrorEnvelope),
    ))]
pub async fn search_all(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<SearchAllParams>,
) -> Result<HttpResponse, ApiError> {
    let mut check = Checker::new();
    let q = check.search_text(params.q.as_deref());
    let page = check.page(params.page.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new("search/multi", TtlClass::Search, Shape::List(None))
        .param("query", q)
        .param("page", page)
        .image_size(size);
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/{media}/{id}", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv"), ("id" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id"), DetailsParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "The title with the appended sections", body = TitleDetails),
        (status = 404, description = "No such title", body = ErrorEnvelope),
        (status = 422, description = "The id is not a positive integer, or an unknown section", body = ErrorEnvelope),
    ))]
pub async fn details(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: web::Query<DetailsParams>,
) -> Result<HttpResponse, ApiError> {
    let (media, id) = path.into_inner();
    let media = media_of(&media);
    let mut check = Checker::new();
    let id = check.id("id", &id);
    let sections = check.sections(params.append.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = details_query(media, id, &sections).image_size(size);
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/{media}/{id}/{related}", tag = "catalog",
    params(
        ("media" = inline(MediaPath), Path, description = "movies or tv"),
        ("id" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id"),
        ("related" = inline(Related), Path, description = "recommendations or similar"),
        ListParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "A page of related titles", body = CatalogPage),
        (status = 404, description = "No such title", body = ErrorEnvelope),
        (status = 422, description = "Invalid id, page or imageSize", body = ErrorEnvelope),
    ))]
pub async fn related(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let (media, id, related) = path.into_inner();
    let media = media_of(&media);
    let mut check = Checker::new();
    let id = check.id("id", &id);
    let page = check.page(params.page.as_deref());
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new(
        format!("{}/{id}/{related}", media.as_str()),
        TtlClass::Details,
        Shape::List(Some(media)),
    )
    .param("page", page)
    .image_size(size)
    .subject(media.noun());
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/{media}/{id}/videos", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv"), ("id" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id")),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "`{items: [{id, key, name, site, type, official, publishedAt, url}]}`"),
        (status = 404, description = "No such title", body = ErrorEnvelope),
        (status = 422, description = "The id is not a positive integer", body = ErrorEnvelope),
    ))]
pub async fn videos(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    sub_resource(req, state, path, "videos", Shape::Videos).await
}

#[utoipa::path(get, path = "/api/{media}/{id}/credits", tag = "catalog",
    params(("media" = inline(MediaPath), Path, description = "movies or tv"), ("id" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id")),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "Cast and crew", body = Credits),
        (status = 404, description = "No such title", body = ErrorEnvelope),
        (status = 422, description = "The id is not a positive integer", body = ErrorEnvelope),
    ))]
pub async fn credits(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    sub_resource(req, state, path, "credits", Shape::Credits).await
}

async fn sub_resource(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    name: &str,
    shape: Shape,
) -> Result<HttpResponse, ApiError> {
    let (media, id) = path.into_inner();
    let media = media_of(&media);
    let mut check = Checker::new();
    let id = check.id("id", &id);
    check.finish()?;
    let query = CatalogQuery::new(
        format!("{}/{id}/{name}", media.as_str()),
        TtlClass::Details,
        shape,
    )
    .subject(media.noun());
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/tv/{id}/season/{seasonNumber}", tag = "catalog",
    params(("id" = i64, Path, minimum = 1, maximum = 2147483647, description = "TMDB id"), ("seasonNumber" = i64, Path, minimum = 0, maximum = 1000, description = "0 (specials) to 1000"), ImageParams),
    responses(
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
        (status = 200, description = "The season and its episodes", body = Season),
        (status = 404, description = "No such show or season", body = ErrorEnvelope),
        (status = 422, description = "Invalid id or season number", body = ErrorEnvelope),
    ))]
pub async fn season(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: web::Query<ImageParams>,
) -> Result<HttpResponse, ApiError> {
    let (id, number) = path.into_inner();
    let mut check = Checker::new();
    let id = check.id("id", &id);
    let number = check.season(&number);
    let size = check.image_size(params.image_size.as_deref());
    check.finish()?;
    let query = CatalogQuery::new(
        format!("tv/{id}/season/{number}"),
        TtlClass::Details,
        Shape::Season,
    )
    .image_size(size)
    .subject("Season");
    Ok(state.catalog.respond(&req, query).await)
}

#[utoipa::path(get, path = "/api/catalog/config", tag = "catalog",
    responses(
        (status = 200, description = "Image base URL and sizes", body = CatalogConfig),
        (status = 429, description = "Too many cache misses from this address (each costs a TMDB call); see Retry-After", body = ErrorEnvelope),
    ))]
pub async fn config(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query = CatalogQuery::new("configuration", TtlClass::Reference, Shape::Config);
    state.catalog.respond(&req, query).await
}
