//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/media-catalog.openapi.json` (a test fails when the two drift).

use actix_web::HttpResponse;
use common::openapi::BearerAuth;
use utoipa::OpenApi;

use crate::routes::{catalog, dto, library, lists, posters};

#[derive(OpenApi)]
#[openapi(
    info(title = "Reelstack media-catalog", description = "TMDB catalog with a shared cache, watchlist, favorites and a personal movie library."),
    paths(
        catalog::trending, catalog::named_list, catalog::genres, catalog::discover, catalog::search,
        catalog::search_all, catalog::details, catalog::related, catalog::videos, catalog::credits,
        catalog::season, catalog::config,
        lists::list, lists::save, lists::get_one, lists::remove,
        library::list, library::create, library::get_one, library::replace, library::patch, library::delete,
        posters::upload, posters::serve,
    ),
    components(schemas(dto::ErrorEnvelope, dto::ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as committed: pretty JSON with a trailing newline.
pub fn document_json() -> anyhow::Result<String> {
    common::openapi::committed_json(&ApiDoc::openapi())
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
