//! Inventory, for admins: a variant's stock by SKU, adjustments of what is on
//! hand (each one an entry of the variant's ledger) and the ledger itself.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use common::domain::{bounded_text, whole_number};
use common::pagination::{encode_cursor, CursorQuery};
use common::tokens::AdminUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db;
use crate::db::inventory::{Adjustment, LedgerKey};
use crate::dto::{AdjustmentDto, ErrorEnvelope, InventoryDto, LedgerEntryDto, LedgerPage};
use crate::errors::sku_not_found;
use crate::state::AppState;

/// The largest change of one adjustment, either way.
pub const MAX_DELTA: i64 = 1_000_000_000;
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustmentRequest {
    /// Units added to on hand (negative: taken off), not 0, at most 10^9 either
    /// way; on hand never falls below reserved.
    #[serde(default, deserialize_with = "whole_number")]
    #[schema(schema_with = delta_schema, required = true)]
    pub delta: Option<i64>,
    /// Why (a delivery, a count, breakage): 1-500 characters.
    #[schema(value_type = String, required = true, format = "text", max_length = 500)]
    pub reason: Option<String>,
}

/// `delta`: -10^9 to -1 or 1 to 10^9. A 0 changes nothing and is refused
/// (422), so the schema says it too (it said "not 0" in words only).
fn delta_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{
        KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
    };
    let range = |min: i64, max: i64| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(min))
            .maximum(Some(max))
    };
    let one_of = OneOfBuilder::new()
        .item(range(-MAX_DELTA, -1))
        .item(range(1, MAX_DELTA))
        .description(Some(
            "Units added to on hand (negative: taken off), not 0, at most 10^9 either way; on hand never falls below reserved.",
        ))
        .build();
    Schema::OneOf(one_of)
}

#[utoipa::path(get, path = "/api/inventory/{sku}", operation_id = "getInventory", tag = "inventory", security(("bearer" = [])),
    params(("sku" = String, Path, description = "The variant's SKU, whatever its case")),
    responses(
        (status = 200, description = "The variant's stock", body = InventoryDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No variant has this SKU", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sku = path.into_inner();
    let variant = state
        .db
        .run(move |conn| Ok(db::inventory::find(conn, &sku)?))
        .await?
        .ok_or_else(sku_not_found)?;
    Ok(HttpResponse::Ok().json(InventoryDto::from(&variant)))
}

#[utoipa::path(post, path = "/api/inventory/{sku}/adjustments", operation_id = "adjustInventory", tag = "inventory", security(("bearer" = [])),
    params(("sku" = String, Path, description = "The variant's SKU, whatever its case")),
    request_body = AdjustmentRequest,
    responses(
        (status = 201, description = "Applied: the ledger entry and the stock it left", body = AdjustmentDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No variant has this SKU", body = ErrorEnvelope),
        (status = 409, description = "STOCK_BELOW_RESERVED: on hand would fall below reserved (details: onHand, reserved, available, delta)", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid delta or reason", body = ErrorEnvelope),
    ))]
pub async fn adjust(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<String>,
    body: common::Json<AdjustmentRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let delta = match body.delta {
        None => {
            errors.add("delta", "is required");
            None
        }
        Some(0) => {
            errors.add("delta", "must not be 0");
            None
        }
        Some(d) if !(-MAX_DELTA..=MAX_DELTA).contains(&d) => {
            errors.add(
                "delta",
                format!("must be between -{MAX_DELTA} and {MAX_DELTA}"),
            );
            None
        }
        Some(d) => Some(d),
    };
    let reason = match body.reason.map(|r| bounded_text(&r, MAX_REASON_CHARS)) {
        None => {
            errors.add("reason", "is required");
            None
        }
        Some(Err(e)) => {
            errors.add("reason", e);
            None
        }
        Some(Ok(reason)) => Some(reason),
    };
    errors.into_result()?;
    let (Some(delta), Some(reason)) = (delta, reason) else {
        return Err(ApiError::internal("validated adjustment missing"));
    };
    let adjustment = Adjustment {
        delta,
        reason,
        actor_issuer: admin.0.issuer.clone(),
        actor_subject: admin.0.subject.clone(),
    };
    let sku = path.into_inner();
    tracing::info!(inventory.sku = %sku, inventory.delta = delta, admin = %admin.0.subject, "stock adjustment");
    let (variant, entry) = state
        .db
        .run(move |conn| db::inventory::adjust(conn, &sku, &adjustment))
        .await?
        .ok_or_else(sku_not_found)?;
    // Variants show what is available.
    state.products.clear();
    Ok(
        HttpResponse::build(StatusCode::CREATED).json(AdjustmentDto {
            inventory: InventoryDto::from(&variant),
            entry: LedgerEntryDto::from(entry),
        }),
    )
}

#[utoipa::path(get, path = "/api/inventory/{sku}/ledger", operation_id = "listLedger", tag = "inventory", security(("bearer" = [])),
    params(("sku" = String, Path, description = "The variant's SKU, whatever its case"), CursorQuery),
    responses(
        (status = 200, description = "The variant's ledger, newest first", body = LedgerPage),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No variant has this SKU", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn ledger(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (before, limit) = query.validate::<LedgerKey>()?;
    let sku = path.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            let Some(variant) = db::inventory::find(conn, &sku)? else {
                return Ok(None);
            };
            Ok(Some(db::inventory::ledger(
                conn, variant.id, before, limit,
            )?))
        })
        .await?
        .ok_or_else(sku_not_found)?;
    let full = i64::try_from(rows.len()).is_ok_and(|n| n == limit);
    let next_cursor = rows
        .last()
        .filter(|_| full)
        .map(|last| encode_cursor(&(last.created_at, last.id)));
    Ok(HttpResponse::Ok().json(LedgerPage {
        items: rows.into_iter().map(LedgerEntryDto::from).collect(),
        next_cursor,
    }))
}
