//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/media-catalog.openapi.json` (a test fails when the two drift).

use utoipa::OpenApi;

use crate::routes::{catalog, library, lists, posters};

#[derive(OpenApi)]
#[openapi(paths(
    catalog::trending,
    catalog::named_list,
    catalog::genres,
    catalog::discover,
    catalog::search,
    catalog::search_all,
    catalog::details,
    catalog::related,
    catalog::videos,
    catalog::credits,
    catalog::season,
    catalog::config,
    lists::list,
    lists::save,
    lists::get_one,
    lists::remove,
    library::list,
    library::create,
    library::get_one,
    library::replace,
    library::patch,
    library::delete,
    posters::upload,
    posters::serve,
))]
struct ApiDoc;

/// The finished document: what is served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    common::openapi::finish(
        ApiDoc::openapi(),
        "Reelstack media-catalog",
        "TMDB catalog with a shared cache, watchlist, favorites and a personal movie library.",
    )
}
