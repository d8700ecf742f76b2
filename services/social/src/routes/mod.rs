//! HTTP routes of the social service.

pub mod comments;
pub mod feed;
pub mod media;
pub mod notifications;
pub mod uploads;
pub mod users;
pub mod videos;

use actix_web::web;
use chrono::{DateTime, Utc};
use common::pagination::encode_cursor;
use serde::Serialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/videos", web::post().to(videos::create))
        // A resource of its own, before `/api/videos/{id}`, so that no other
        // method on it reaches a video route (they are 405 here).
        .service(web::resource("/api/videos/search").route(web::get().to(feed::search)))
        .service(web::resource("/api/videos/upload").route(web::post().to(media::upload)))
        .service(
            web::scope("/api/videos/{id}")
                .route("", web::get().to(videos::get_one))
                .route("", web::patch().to(videos::patch))
                .route("", web::delete().to(videos::delete))
                .route("/like", web::put().to(videos::like))
                .route("/like", web::delete().to(videos::unlike))
                .route("/views", web::post().to(videos::view))
                .route("/stream", web::get().to(media::stream))
                .route("/hls/{file}", web::get().to(media::hls))
                .route("/poster.jpg", web::get().to(media::poster))
                .route("/comments", web::post().to(comments::post))
                .route("/comments", web::get().to(comments::list)),
        )
        .service(
            web::scope("/api/comments/{id}")
                .route("", web::delete().to(comments::delete))
                .route("/replies", web::get().to(comments::replies))
                .route("/like", web::put().to(comments::like))
                .route("/like", web::delete().to(comments::unlike)),
        )
        .service(
            web::scope("/api/users/{id}")
                .route("", web::get().to(users::profile))
                .route("/videos", web::get().to(videos::by_user))
                .route("/follow", web::put().to(users::follow))
                .route("/follow", web::delete().to(users::unfollow))
                .route("/followers", web::get().to(users::followers))
                .route("/following", web::get().to(users::following))
                .route("/likes", web::get().to(users::likes)),
        )
        .service(
            web::scope("/api/uploads")
                .wrap(
                    actix_web::middleware::DefaultHeaders::new()
                        .add(("tus-resumable", uploads::TUS_VERSION))
                        .add(("tus-version", uploads::TUS_VERSION)),
                )
                .route("", web::post().to(uploads::create))
                .route("/", web::post().to(uploads::create))
                .route(
                    "",
                    web::method(actix_web::http::Method::OPTIONS).to(uploads::options),
                )
                .route(
                    "/",
                    web::method(actix_web::http::Method::OPTIONS).to(uploads::options),
                )
                .route("/{id}", web::head().to(uploads::head))
                .route("/{id}", web::get().to(uploads::get_one))
                .route("/{id}", web::patch().to(uploads::patch))
                .route("/{id}", web::delete().to(uploads::delete))
                .route(
                    "/{id}",
                    web::method(actix_web::http::Method::OPTIONS).to(uploads::options),
                ),
        )
        .route("/api/feed/following", web::get().to(feed::following))
        .route("/api/feed/trending", web::get().to(feed::trending))
        .route("/api/feed/for-you", web::get().to(feed::for_you))
        .route("/api/tags/trending", web::get().to(feed::trending_tags))
        .route("/api/tags/{tag}/videos", web::get().to(feed::by_tag))
        .route("/api/notifications", web::get().to(notifications::list))
        .route(
            "/api/notifications/unread-count",
            web::get().to(notifications::unread_count),
        )
        .route(
            "/api/notifications/read",
            web::post().to(notifications::read),
        )
        .route(
            "/api/notifications/stream",
            web::get().to(notifications::stream),
        );
}

/// An id from the path; anything but a UUID names nothing.
pub fn uuid_of(raw: &str, not_found: fn() -> common::ApiError) -> Result<Uuid, common::ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| not_found())
}

/// The cursor of the page after `rows` when the page is full: the key of its last row.
pub fn next_cursor<T, K: Serialize>(
    rows: &[T],
    limit: i64,
    key: impl Fn(&T) -> K,
) -> Option<String> {
    if rows.len() as i64 == limit {
        rows.last().map(|last| encode_cursor(&key(last)))
    } else {
        None
    }
}

/// The newest-first key of a row.
pub type TimeKey = (DateTime<Utc>, Uuid);
