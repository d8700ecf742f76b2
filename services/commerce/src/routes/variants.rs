//! A product's variants, written one at a time. Each write is a revision of the
//! product: it honours the product's `If-Match` and answers the whole product
//! with its new `ETag`, ready for the next write.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use common::domain::{bounded_text, double_option, double_option_whole_number};
use common::tokens::AdminUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::products::answer;
use super::{if_match, uuid_of};
use crate::db;
use crate::db::variants::VariantChanges;
use crate::domain::{price, sku, OptionValues, VariantFields, MAX_TITLE_CHARS};
use crate::dto::{ErrorEnvelope, ProductDto};
use crate::errors::{product_not_found, variant_not_found};
use crate::state::AppState;

/// `PATCH /api/products/{id}/variants/{variantId}`: any of the fields;
/// `title: null` goes back to the title made from the option values,
/// `compareAtPriceMinor: null` removes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantRequest {
    /// 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit;
    /// unique whatever the case.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length = 64)]
    pub sku: Option<Option<String>>,
    /// 1-200 characters; `null`: its option values ("M / Red").
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "text", max_length = 200)]
    pub title: Option<Option<String>>,
    /// One value of each of the product's options, by option name; no other
    /// variant of the product may have the same combination.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = BTreeMap<String, String>)]
    pub option_values: Option<Option<OptionValues>>,
    /// In minor units of the shop's currency, 0 to 10^12.
    #[serde(default, deserialize_with = "double_option_whole_number")]
    #[schema(value_type = i64, minimum = 0, maximum = 1000000000000.0)]
    pub price_minor: Option<Option<i64>>,
    /// Greater than `priceMinor`, at most 10^12; `null`: none.
    #[serde(default, deserialize_with = "double_option_whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1000000000000.0)]
    pub compare_at_price_minor: Option<Option<i64>>,
}

/// A new variant (`POST /api/products/{id}/variants`, and each of
/// `POST /api/products`' `variants`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "documentation only")]
pub struct NewVariantRequest {
    /// 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit;
    /// unique whatever the case.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length = 64)]
    sku: String,
    /// 1-200 characters; absent or `null`: its option values ("M / Red").
    #[schema(format = "text", max_length = 200)]
    title: Option<String>,
    /// One value of each of the product's options, by option name (`{}` or
    /// absent for a product without options); no other variant of the product
    /// may have the same combination.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, String>)]
    option_values: OptionValues,
    /// In minor units of the shop's currency, 0 to 10^12.
    #[schema(minimum = 0, maximum = 1000000000000.0)]
    price_minor: i64,
    /// Greater than `priceMinor`, at most 10^12.
    #[schema(minimum = 1, maximum = 1000000000000.0)]
    compare_at_price_minor: Option<i64>,
}

/// The fields of a body, checked one by one (`prefix` names them in errors).
fn changes_of(body: VariantRequest, prefix: &str, errors: &mut FieldErrors) -> VariantChanges {
    let mut changes = VariantChanges::default();
    let field = |name: &str| format!("{prefix}{name}");
    match body.sku {
        Some(Some(raw)) => match sku(&raw) {
            Ok(sku) => changes.sku = Some(sku),
            Err(e) => errors.add(field("sku"), e),
        },
        Some(None) => errors.add(field("sku"), "must not be null"),
        None => {}
    }
    match body.title {
        Some(Some(raw)) => match bounded_text(&raw, MAX_TITLE_CHARS) {
            Ok(title) => changes.title = Some(Some(title)),
            Err(e) => errors.add(field("title"), e),
        },
        Some(None) => changes.title = Some(None),
        None => {}
    }
    match body.option_values {
        Some(Some(values)) => changes.option_values = Some(values),
        Some(None) => errors.add(field("optionValues"), "must not be null"),
        None => {}
    }
    match body.price_minor {
        Some(Some(raw)) => match price(raw) {
            Ok(p) => changes.price_minor = Some(p),
            Err(e) => errors.add(field("priceMinor"), e),
        },
        Some(None) => errors.add(field("priceMinor"), "must not be null"),
        None => {}
    }
    match body.compare_at_price_minor {
        Some(Some(raw)) => match price(raw) {
            Ok(p) => changes.compare_at_price_minor = Some(Some(p)),
            Err(e) => errors.add(field("compareAtPriceMinor"), e),
        },
        Some(None) => changes.compare_at_price_minor = Some(None),
        None => {}
    }
    changes
}

/// A whole new variant: `sku` and `priceMinor` required. `None` when a field
/// is missing or wrong (the reason is in `errors`).
pub(crate) fn fields_of(
    body: VariantRequest,
    prefix: &str,
    errors: &mut FieldErrors,
) -> Option<VariantFields> {
    let changes = changes_of(body, prefix, errors);
    if changes.sku.is_none() && !errors.0.contains_key(&format!("{prefix}sku")) {
        errors.add(format!("{prefix}sku"), "is required");
    }
    if changes.price_minor.is_none() && !errors.0.contains_key(&format!("{prefix}priceMinor")) {
        errors.add(format!("{prefix}priceMinor"), "is required");
    }
    Some(VariantFields {
        sku: changes.sku?,
        title: changes.title.flatten(),
        option_values: changes.option_values.unwrap_or_default(),
        price_minor: changes.price_minor?,
        compare_at_price_minor: changes.compare_at_price_minor.flatten(),
    })
}

#[utoipa::path(post, path = "/api/products/{id}/variants", operation_id = "createVariant", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("If-Match" = Option<String>, Header, description = "The product's ETag the change was made from; 412 when it changed since")),
    request_body = NewVariantRequest,
    responses(
        (status = 201, description = "Added: the whole product, with its new `ETag`", body = ProductDto,
            headers(("ETag" = String, description = "The product's new revision"))),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product", body = ErrorEnvelope),
        (status = 409, description = "SKU_TAKEN: another variant has this SKU", body = ErrorEnvelope),
        (status = 412, description = "PRECONDITION_FAILED: If-Match names another revision (details.etag is the current one)", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid fields, option values that do not fit the options or repeat another variant's, or a product with 250 variants", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    _admin: AdminUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: common::Json<VariantRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, product_not_found)?;
    let mut errors = FieldErrors::new();
    let fields = fields_of(body.into_inner(), "", &mut errors);
    errors.into_result()?;
    let fields = fields.ok_or_else(|| ApiError::internal("validated variant missing"))?;
    let condition = if_match(&req);
    let view = state
        .db
        .run(move |conn| db::variants::add(conn, id, &condition, fields))
        .await?
        .ok_or_else(product_not_found)?;
    answer(StatusCode::CREATED, view, &state)
}

fn ids_of(path: &(String, String)) -> Result<(Uuid, Uuid), ApiError> {
    Ok((
        uuid_of(&path.0, product_not_found)?,
        uuid_of(&path.1, variant_not_found)?,
    ))
}

#[utoipa::path(patch, path = "/api/products/{id}/variants/{variantId}", operation_id = "updateVariant", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("variantId" = Uuid, Path, description = "Variant id"),
        ("If-Match" = Option<String>, Header, description = "The product's ETag the change was made from; 412 when it changed since")),
    request_body = VariantRequest,
    responses(
        (status = 200, description = "Changed: the whole product, with its new `ETag`", body = ProductDto,
            headers(("ETag" = String, description = "The product's new revision"))),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product, or no such variant of it", body = ErrorEnvelope),
        (status = 409, description = "SKU_TAKEN: another variant has this SKU", body = ErrorEnvelope),
        (status = 412, description = "PRECONDITION_FAILED: If-Match names another revision (details.etag is the current one)", body = ErrorEnvelope),
        (status = 422, description = "Invalid fields, a compareAtPriceMinor not above the price, or option values that do not fit the options or repeat another variant's", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    _admin: AdminUser,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: common::Json<VariantRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, variant_id) = ids_of(&path)?;
    let mut errors = FieldErrors::new();
    let changes = changes_of(body.into_inner(), "", &mut errors);
    errors.into_result()?;
    let condition = if_match(&req);
    let view = state
        .db
        .run(move |conn| db::variants::update(conn, id, variant_id, &condition, changes))
        .await?
        .ok_or_else(product_not_found)?;
    answer(StatusCode::OK, view, &state)
}

#[utoipa::path(delete, path = "/api/products/{id}/variants/{variantId}", operation_id = "deleteVariant", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("variantId" = Uuid, Path, description = "Variant id"),
        ("If-Match" = Option<String>, Header, description = "The product's ETag the deletion was decided on; 412 when it changed since")),
    responses(
        (status = 200, description = "Deleted: the whole product, with its new `ETag`", body = ProductDto,
            headers(("ETag" = String, description = "The product's new revision"))),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product, or no such variant of it", body = ErrorEnvelope),
        (status = 409, description = "VARIANT_ORDERED: orders name the variant (archive the product instead)", body = ErrorEnvelope),
        (status = 412, description = "PRECONDITION_FAILED: If-Match names another revision (details.etag is the current one)", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    _admin: AdminUser,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, variant_id) = ids_of(&path)?;
    let condition = if_match(&req);
    let view = state
        .db
        .run(move |conn| db::variants::delete(conn, id, variant_id, &condition))
        .await?
        .ok_or_else(product_not_found)?;
    answer(StatusCode::OK, view, &state)
}
