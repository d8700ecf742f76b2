//! HTTP routes of the meeting-user-sync service.

pub mod chat;
pub mod internal;
pub mod meetings;
pub mod profile;
pub mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/user/sync", web::post().to(profile::sync_me))
        .route("/api/user/profile", web::get().to(profile::get_profile))
        .route("/api/user/profile", web::patch().to(profile::patch_profile))
        .route("/api/webhooks/clerk", web::post().to(webhooks::clerk))
        .route("/api/meetings", web::post().to(meetings::create))
        .route("/api/meetings", web::get().to(meetings::list))
        // Before `/api/meetings/{id}`, which would match it too.
        .service(web::resource("/api/meetings/join").route(web::post().to(meetings::join)))
        .service(
            web::scope("/api/meetings/{id}")
                .route("", web::get().to(meetings::get_one))
                .route("", web::patch().to(meetings::patch))
                .route("", web::delete().to(meetings::delete))
                .route("/leave", web::post().to(meetings::leave))
                .route("/end", web::post().to(meetings::end))
                .route("/participants", web::get().to(meetings::participants))
                .route(
                    "/participants/{user_id}",
                    web::delete().to(meetings::remove_participant),
                )
                .route("/messages", web::post().to(chat::post))
                .route("/messages", web::get().to(chat::history))
                .route("/live", web::get().to(crate::live::socket::live)),
        );
}

/// The routes of the internal listener, for other services only.
pub fn configure_internal(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/internal/users")
            .route("/batch", web::post().to(internal::batch))
            .route("/{id}", web::put().to(internal::upsert_user))
            .route("/{id}", web::delete().to(internal::delete_user)),
    );
}
