//! commerce's own error codes, each defined once with its status.

use actix_web::http::StatusCode;
use common::ApiError;
use serde_json::json;

pub const SLUG_TAKEN: &str = "SLUG_TAKEN";
pub const SKU_TAKEN: &str = "SKU_TAKEN";
pub const CATEGORY_IN_USE: &str = "CATEGORY_IN_USE";
pub const CATEGORY_HAS_CHILDREN: &str = "CATEGORY_HAS_CHILDREN";
pub const PRECONDITION_FAILED: &str = "PRECONDITION_FAILED";

pub fn category_not_found() -> ApiError {
    ApiError::not_found("Category")
}

pub fn product_not_found() -> ApiError {
    ApiError::not_found("Product")
}

pub fn variant_not_found() -> ApiError {
    ApiError::not_found("Variant")
}

pub fn slug_taken() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        SLUG_TAKEN,
        "Another one already has this slug",
    )
}

pub fn sku_taken() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        SKU_TAKEN,
        "Another variant already has this SKU",
    )
}

/// `products`: how many products still name the category.
pub fn category_in_use(products: i64) -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        CATEGORY_IN_USE,
        "Products still belong to this category; move them with ?reassignTo=<slug>",
    )
    .with_details(json!({ "products": products }))
}

pub fn category_has_children() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        CATEGORY_HAS_CHILDREN,
        "The category has subcategories; move or delete them first",
    )
}

/// `If-Match` names a revision other than the current one; `current` is the
/// current `ETag`.
pub fn precondition_failed(current: &str) -> ApiError {
    ApiError::coded(
        StatusCode::PRECONDITION_FAILED,
        PRECONDITION_FAILED,
        "The product changed since it was read; read it again (If-Match)",
    )
    .with_details(json!({ "etag": current }))
}

pub const STOCK_BELOW_RESERVED: &str = "STOCK_BELOW_RESERVED";

pub fn sku_not_found() -> ApiError {
    ApiError::not_found("SKU")
}

/// Taking `-delta` off `variant` would leave less on hand than its open
/// orders reserve.
pub fn below_reserved(variant: &crate::db::models::Variant, delta: i64) -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        STOCK_BELOW_RESERVED,
        "On hand cannot fall below what open orders reserve",
    )
    .with_details(json!({
        "onHand": variant.on_hand,
        "reserved": variant.reserved,
        "available": variant.available(),
        "delta": delta,
    }))
}
