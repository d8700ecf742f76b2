//! HTTP routes of the meeting-user-sync service.

pub mod dto;
pub mod internal;
pub mod profile;
pub mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::serve))
        .route("/api/user/sync", web::post().to(profile::sync_me))
        .route("/api/user/profile", web::get().to(profile::get_profile))
        .route("/api/user/profile", web::patch().to(profile::patch_profile))
        .route("/api/webhooks/clerk", web::post().to(webhooks::clerk))
        .service(
            web::scope("/internal/users")
                .route("/batch", web::post().to(internal::batch))
                .route("/{id}", web::put().to(internal::upsert_user))
                .route("/{id}", web::delete().to(internal::delete_user)),
        );
}
