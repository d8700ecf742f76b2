//! HTTP routes of the commerce service.

pub mod analytics;
pub mod cart;
pub mod categories;
pub mod images;
pub mod inventory;
pub mod orders;
pub mod products;
pub mod search;
pub mod variants;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use common::{ApiError, FieldErrors};
use uuid::Uuid;

use crate::domain::IfMatch;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Before `/api/products/{id}`: `suggest` is not an id.
    search::configure(cfg);
    images::configure(cfg);
    cart::configure(cfg);
    orders::configure(cfg);
    analytics::configure(cfg);
    cfg.route("/api/categories", web::get().to(categories::list))
        .route("/api/categories", web::post().to(categories::create))
        .route("/api/categories/{slug}", web::get().to(categories::get_one))
        .route("/api/categories/{slug}", web::patch().to(categories::patch))
        .route(
            "/api/categories/{slug}",
            web::delete().to(categories::delete),
        )
        .route("/api/products", web::post().to(products::create))
        .route("/api/products/{id}", web::get().to(products::get_one))
        .route("/api/products/{id}", web::patch().to(products::patch))
        .route("/api/products/{id}", web::delete().to(products::delete))
        .route(
            "/api/products/{id}/variants",
            web::post().to(variants::create),
        )
        .route(
            "/api/products/{id}/variants/{variantId}",
            web::patch().to(variants::patch),
        )
        .route(
            "/api/products/{id}/variants/{variantId}",
            web::delete().to(variants::delete),
        )
        .route("/api/inventory/{sku}", web::get().to(inventory::get_one))
        .route(
            "/api/inventory/{sku}/adjustments",
            web::post().to(inventory::adjust),
        )
        .route(
            "/api/inventory/{sku}/ledger",
            web::get().to(inventory::ledger),
        );
}

/// An id from the path; anything but a UUID names nothing.
pub fn uuid_of(raw: &str, not_found: fn() -> ApiError) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| not_found())
}

/// The request's `If-Match` (a value that is not visible ASCII matches nothing).
pub fn if_match(req: &HttpRequest) -> IfMatch {
    IfMatch::parse(
        req.headers()
            .get_all(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or("\"unreadable\"")),
    )
}

/// A field of a write that may be absent but never `null`: the parsed value
/// when it is there and valid, else `None` with the reason in `errors` (also
/// when it is `required` and absent).
pub(crate) fn present<R, T, E: Into<String>>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<Option<R>>,
    required: bool,
    parse: impl FnOnce(R) -> Result<T, E>,
) -> Option<T> {
    match value {
        Some(Some(raw)) => parse(raw).map_err(|e| errors.add(field, e)).ok(),
        Some(None) => {
            errors.add(field, "must not be null");
            None
        }
        None => {
            if required {
                errors.add(field, "is required");
            }
            None
        }
    }
}
