//! Documentation-only types: the values that path and query parameters take, as
//! schema enumerations, so a client generated from the document sends only
//! values the routes accept (each list is the one the route checks against).

#![allow(dead_code, reason = "documentation only: never built")]

use utoipa::ToSchema;

/// `movies` or `tv` as the first segment after `/api`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum MediaPath {
    Movies,
    Tv,
}

/// A TMDB list; `now-playing` and `upcoming` are for movies, `on-the-air` and
/// `airing-today` for TV (404 on the other kind).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
pub enum NamedList {
    Popular,
    TopRated,
    NowPlaying,
    Upcoming,
    OnTheAir,
    AiringToday,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Related {
    Recommendations,
    Similar,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum SavedList {
    Watchlist,
    Favorites,
}

/// The value lists of query parameters, from the lists the checks use.
pub fn image_sizes() -> utoipa::openapi::Object {
    common::openapi::one_of(crate::domain::params::POSTER_SIZES)
}

pub fn windows() -> utoipa::openapi::Object {
    common::openapi::one_of(crate::domain::params::WINDOWS)
}

pub fn discover_sorts() -> utoipa::openapi::Object {
    common::openapi::one_of(crate::domain::params::SORTS)
}

pub fn library_sorts() -> utoipa::openapi::Object {
    common::openapi::one_of(crate::db::library::LibrarySort::ACCEPTED)
}

pub fn poster_sizes() -> utoipa::openapi::Object {
    common::openapi::one_of(crate::posters::PosterSize::ACCEPTED)
}
