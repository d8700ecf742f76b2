//! HTTP routes of the auth service.

pub mod account;
pub mod admin;
pub mod dto;
pub mod internal;
pub mod me;
pub mod recovery;
pub mod sessions;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/auth")
            .route("/signup", web::post().to(account::signup))
            .route("/login", web::post().to(account::login))
            .route("/refresh", web::post().to(account::refresh))
            .route("/logout", web::post().to(account::logout))
            .route("/logout-all", web::post().to(account::logout_all))
            .route("/me", web::get().to(me::get_me))
            .route("/me", web::patch().to(me::patch_me))
            .route("/password", web::post().to(me::change_password))
            .route("/sessions", web::get().to(sessions::list))
            .route("/sessions/{id}", web::delete().to(sessions::revoke))
            .route(
                "/email/verify/request",
                web::post().to(recovery::request_verification),
            )
            .route("/email/verify", web::post().to(recovery::verify_email))
            .route(
                "/password/reset/request",
                web::post().to(recovery::request_reset),
            )
            .route("/password/reset", web::post().to(recovery::reset_password))
            .route("/admin/users", web::get().to(admin::list_users))
            .route("/admin/users/{id}", web::patch().to(admin::update_user)),
    )
    .route("/.well-known/jwks.json", web::get().to(internal::jwks));
}

/// The routes of the internal listener, for other services only.
pub fn configure_internal(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/internal")
            .route("/token", web::post().to(internal::service_token))
            .route("/users/batch", web::post().to(internal::users_batch))
            .route("/users/{id}", web::get().to(internal::user_by_id)),
    );
}

/// Reads a required string field into a validated type, collecting errors.
pub(crate) fn required<T, E: ToString>(
    errors: &mut common::FieldErrors,
    field: &str,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    match value {
        None => {
            errors.add(field, "is required");
            None
        }
        Some(raw) => match parse(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.add(field, e.to_string());
                None
            }
        },
    }
}
