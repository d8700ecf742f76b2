//! HTTP routes of the media-catalog service.

pub mod catalog;
pub mod doc;
pub mod dto;
pub mod library;
pub mod lists;
pub mod posters;

use actix_web::web;

/// `movies` or `tv` as the first segment after `/api`.
const MEDIA: &str = "{media:movies|tv}";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/search", web::get().to(catalog::search_all))
        .route("/api/catalog/config", web::get().to(catalog::config))
        // Fixed names first: `{id}` below would match them too.
        .route(&format!("/api/{MEDIA}/trending"), web::get().to(catalog::trending))
        .route(&format!("/api/{MEDIA}/genres"), web::get().to(catalog::genres))
        .route(&format!("/api/{MEDIA}/discover"), web::get().to(catalog::discover))
        .route(&format!("/api/{MEDIA}/search"), web::get().to(catalog::search))
        .route(
            &format!(
                "/api/{MEDIA}/{{list:popular|top-rated|now-playing|upcoming|on-the-air|airing-today}}"
            ),
            web::get().to(catalog::named_list),
        )
        .route(&format!("/api/{MEDIA}/{{id}}"), web::get().to(catalog::details))
        .route(
            &format!("/api/{MEDIA}/{{id}}/{{related:recommendations|similar}}"),
            web::get().to(catalog::related),
        )
        .route(&format!("/api/{MEDIA}/{{id}}/videos"), web::get().to(catalog::videos))
        .route(&format!("/api/{MEDIA}/{{id}}/credits"), web::get().to(catalog::credits))
        .route("/api/tv/{id}/season/{season}", web::get().to(catalog::season))
        .service(
            web::scope("/api/library/movies")
                .route("", web::get().to(library::list))
                .route("", web::post().to(library::create))
                .route("/{id}", web::get().to(library::get_one))
                .route("/{id}", web::put().to(library::replace))
                .route("/{id}", web::patch().to(library::patch))
                .route("/{id}", web::delete().to(library::delete))
                .route("/{id}/poster", web::put().to(posters::upload))
                .route("/{id}/poster", web::get().to(posters::serve)),
        )
        .route("/api/{list:watchlist|favorites}", web::get().to(lists::list))
        .route("/api/{list:watchlist|favorites}", web::post().to(lists::save))
        .route(
            "/api/{list:watchlist|favorites}/{media_type}/{tmdb_id}",
            web::get().to(lists::get_one),
        )
        .route(
            "/api/{list:watchlist|favorites}/{media_type}/{tmdb_id}",
            web::delete().to(lists::remove),
        );
}
