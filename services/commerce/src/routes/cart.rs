//! The signed-in user's cart, priced at current prices. A cart reserves
//! nothing: asking for more than is available now is refused (409), and an
//! order placed from it is checked again.

use actix_web::{web, HttpResponse};
use common::domain::whole_number;
use common::tokens::AuthUser;
use common::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::db;
use crate::db::carts::{CartLine, SetOutcome};
use crate::db::orders::Owner;
use crate::dto::ErrorEnvelope;
use crate::errors::{insufficient_stock, variant_not_found};
use crate::routes::uuid_of;
use crate::state::AppState;

/// The most units of one variant in a cart or an order line.
pub const MAX_QUANTITY: i64 = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/cart", web::get().to(get))
        .route("/api/cart", web::delete().to(clear))
        .route("/api/cart/items/{variantId}", web::put().to(set_item));
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(get, set_item, clear))]
pub struct ApiDoc;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartItemDto {
    pub variant_id: Uuid,
    pub sku: String,
    /// The product's title with the variant's ("Tee (M / Red)").
    pub title: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    /// Units for sale now (0 once the product is no longer active); an order
    /// for more is refused.
    pub available: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartDto {
    /// In the order they were first added.
    pub items: Vec<CartItemDto>,
    pub total_minor: i64,
    pub currency: String,
}

fn cart_of(lines: Vec<CartLine>, currency: &str) -> Result<CartDto, ApiError> {
    let mut total: i64 = 0;
    let mut items = Vec::with_capacity(lines.len());
    for line in lines {
        let line_total = line.quantity.saturating_mul(line.variant.price_minor);
        total = total.saturating_add(line_total);
        items.push(CartItemDto {
            variant_id: line.variant.id,
            title: db::orders::line_title(&line.product, &line.variant)?,
            sku: line.variant.sku.clone(),
            quantity: line.quantity,
            unit_price_minor: line.variant.price_minor,
            line_total_minor: line_total,
            available: line.available(),
        });
    }
    Ok(CartDto {
        items,
        total_minor: total,
        currency: currency.to_owned(),
    })
}

async fn answer(state: &AppState, owner: Owner) -> Result<HttpResponse, ApiError> {
    let lines = state
        .db
        .run(move |conn| Ok(db::carts::lines(conn, &owner)?))
        .await?;
    Ok(HttpResponse::Ok().json(cart_of(lines, &state.settings.shop_currency)?))
}

#[utoipa::path(get, path = "/api/cart", operation_id = "getCart", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's cart at current prices", body = CartDto),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
    ))]
pub async fn get(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    answer(&state, Owner::of(&user)).await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct SetQuantity {
    /// 0 removes the item; at most 1000.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(value_type = i64, required = true, minimum = 0, maximum = 1000)]
    pub quantity: Option<i64>,
}

/// A quantity of 0-`MAX_QUANTITY` (`min` the least allowed).
pub(crate) fn quantity_of(
    raw: Option<i64>,
    min: i64,
    field: &str,
    errors: &mut common::FieldErrors,
) -> Option<i64> {
    match raw {
        None => {
            errors.add(field, "is required");
            None
        }
        Some(q) if !(min..=MAX_QUANTITY).contains(&q) => {
            errors.add(field, format!("must be between {min} and {MAX_QUANTITY}"));
            None
        }
        Some(q) => Some(q),
    }
}

#[utoipa::path(put, path = "/api/cart/items/{variantId}", operation_id = "setCartItem", tag = "cart", security(("bearer" = [])),
    params(("variantId" = Uuid, Path, description = "The variant")),
    request_body = SetQuantity,
    responses(
        (status = 200, description = "The cart after the change", body = CartDto),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 404, description = "No variant of an active product has this id", body = ErrorEnvelope),
        (status = 409, description = "INSUFFICIENT_STOCK: more than is available (details.available), or CART_FULL: 100 variants already", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid quantity", body = ErrorEnvelope),
    ))]
pub async fn set_item(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: common::Json<SetQuantity>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, variant_not_found)?;
    let mut errors = common::FieldErrors::new();
    let quantity = quantity_of(body.into_inner().quantity, 0, "quantity", &mut errors);
    errors.into_result()?;
    let Some(quantity) = quantity else {
        return Err(ApiError::internal("validated quantity missing"));
    };
    let owner = Owner::of(&user);
    let who = owner.clone();
    let outcome = state
        .db
        .run(move |conn| db::carts::set(conn, &who, id, quantity))
        .await?;
    match outcome {
        SetOutcome::Done => answer(&state, owner).await,
        SetOutcome::NoVariant => Err(variant_not_found()),
        SetOutcome::Short { sku, available } => {
            Err(insufficient_stock(id, &sku, quantity, available))
        }
        SetOutcome::Full => Err(crate::errors::cart_full(db::carts::MAX_ITEMS)),
    }
}

#[utoipa::path(delete, path = "/api/cart", operation_id = "clearCart", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 204, description = "The cart is empty"),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
    ))]
pub async fn clear(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let owner = Owner::of(&user);
    state
        .db
        .run(move |conn| Ok(db::carts::clear(conn, &owner)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
