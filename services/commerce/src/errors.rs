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

pub const INSUFFICIENT_STOCK: &str = "INSUFFICIENT_STOCK";
pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
pub const VARIANT_ORDERED: &str = "VARIANT_ORDERED";

pub fn order_not_found() -> ApiError {
    ApiError::not_found("Order")
}

/// Fewer than `requested` units of the variant can be sold now.
pub fn insufficient_stock(
    variant_id: uuid::Uuid,
    sku: &str,
    requested: i64,
    available: i64,
) -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        INSUFFICIENT_STOCK,
        "Not enough of this variant is available",
    )
    .with_details(json!({
        "variantId": variant_id,
        "sku": sku,
        "requested": requested,
        "available": available,
    }))
}

/// An order's total does not fit the counters (never for a real basket).
pub fn total_too_large() -> ApiError {
    ApiError::validation("lines", "the order's total is too large")
}

/// An order in status `from` cannot become `to`.
pub fn invalid_transition(from: &str, to: &str) -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        INVALID_TRANSITION,
        format!("An order that is {from} cannot become {to}"),
    )
    .with_details(json!({ "status": from, "to": to }))
}

/// Orders name the variant: it stays (archive its product instead).
pub fn variant_ordered() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        VARIANT_ORDERED,
        "Orders name this variant; archive the product instead",
    )
}

pub const CART_FULL: &str = "CART_FULL";

/// The cart holds `max` variants already.
pub fn cart_full(max: i64) -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        CART_FULL,
        format!("A cart holds at most {max} different variants"),
    )
    .with_details(json!({ "max": max }))
}
