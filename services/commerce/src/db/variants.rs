//! A product's variants, written under the product's lock and counted as
//! revisions of the product (its `ETag` covers them).

use common::{ApiError, FieldErrors};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use super::models::{ProductView, Variant};
use super::products::{bump, check_revision, lock, variants_of, view};
use super::schema::variants;
use crate::domain::{IfMatch, OptionValues, VariantFields, MAX_VARIANTS};
use crate::errors;

/// What a PATCH changes; `title: Some(None)` goes back to the title made from
/// the option values, `compare_at_price_minor: Some(None)` removes it.
#[derive(Debug, Default)]
pub struct VariantChanges {
    pub sku: Option<String>,
    pub title: Option<Option<String>>,
    pub option_values: Option<OptionValues>,
    pub price_minor: Option<i64>,
    pub compare_at_price_minor: Option<Option<i64>>,
}

/// A unique violation of a variant: its SKU is 409, its combination 422 (the
/// checks before the write find it first; this covers a concurrent writer).
fn conflicts<T>(result: QueryResult<T>) -> Result<T, ApiError> {
    match result {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("variants_sku_key") =>
        {
            Err(errors::sku_taken())
        }
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("variants_combination_key") =>
        {
            Err(ApiError::validation(
                "optionValues",
                "is the combination of another variant",
            ))
        }
        other => other.map_err(ApiError::from),
    }
}

fn values_json(values: &OptionValues) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(values).map_err(|e| ApiError::Internal(e.into()))
}

pub(crate) fn insert(
    conn: &mut PgConnection,
    product_id: Uuid,
    variant: &VariantFields,
    position: i32,
) -> Result<(), ApiError> {
    let values = values_json(&variant.option_values)?;
    conflicts(
        diesel::insert_into(variants::table)
            .values((
                variants::id.eq(Uuid::now_v7()),
                variants::product_id.eq(product_id),
                variants::sku.eq(&variant.sku),
                variants::title.eq(&variant.title),
                variants::option_values.eq(values),
                variants::price_minor.eq(variant.price_minor),
                variants::compare_at_price_minor.eq(variant.compare_at_price_minor),
                variants::position.eq(position),
            ))
            .execute(conn),
    )
    .map(|_| ())
}

/// 422 unless `fields` fits the product's options and no other variant has
/// its combination.
fn check(
    options: &[crate::domain::ProductOption],
    fields: &VariantFields,
    others: &[Variant],
) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    fields.check(options, "", &mut errors);
    for other in others {
        if other.option_values()? == fields.option_values {
            errors.add(
                "optionValues",
                format!("is the combination of variant {}", other.sku),
            );
        }
    }
    errors.into_result()
}

/// Adds a variant; `None` when there is no product `product_id`.
pub fn add(
    conn: &mut PgConnection,
    product_id: Uuid,
    if_match: &IfMatch,
    fields: VariantFields,
) -> Result<Option<ProductView>, ApiError> {
    conn.transaction(|conn| {
        let Some(product) = lock(conn, product_id)? else {
            return Ok(None);
        };
        check_revision(if_match, product.version)?;
        let existing = variants_of(conn, product_id)?;
        if existing.len() >= MAX_VARIANTS {
            return Err(ApiError::validation(
                "sku",
                &format!("cannot be added: the product has {MAX_VARIANTS} variants, the most it may have"),
            ));
        }
        check(&product.options()?, &fields, &existing)?;
        let position = existing.iter().map(|v| v.position + 1).max().unwrap_or(0);
        insert(conn, product_id, &fields, position)?;
        let product = bump(conn, product_id)?;
        Ok(Some(view(conn, product)?))
    })
}

#[derive(AsChangeset)]
#[diesel(table_name = variants)]
struct VariantUpdate {
    sku: Option<String>,
    title: Option<Option<String>>,
    option_values: Option<serde_json::Value>,
    price_minor: Option<i64>,
    compare_at_price_minor: Option<Option<i64>>,
}

/// Changes a variant; `None` when there is no product `product_id`, 404 when
/// the product has no variant `variant_id`.
pub fn update(
    conn: &mut PgConnection,
    product_id: Uuid,
    variant_id: Uuid,
    if_match: &IfMatch,
    changes: VariantChanges,
) -> Result<Option<ProductView>, ApiError> {
    conn.transaction(|conn| {
        let Some(product) = lock(conn, product_id)? else {
            return Ok(None);
        };
        check_revision(if_match, product.version)?;
        let (current, others): (Vec<Variant>, Vec<Variant>) = variants_of(conn, product_id)?
            .into_iter()
            .partition(|v| v.id == variant_id);
        let current = current
            .into_iter()
            .next()
            .ok_or_else(errors::variant_not_found)?;
        let merged = VariantFields {
            sku: changes.sku.clone().unwrap_or_else(|| current.sku.clone()),
            title: changes
                .title
                .clone()
                .unwrap_or_else(|| current.title.clone()),
            option_values: match &changes.option_values {
                Some(values) => values.clone(),
                None => current.option_values()?,
            },
            price_minor: changes.price_minor.unwrap_or(current.price_minor),
            compare_at_price_minor: changes
                .compare_at_price_minor
                .unwrap_or(current.compare_at_price_minor),
        };
        check(&product.options()?, &merged, &others)?;
        let update = VariantUpdate {
            sku: changes.sku,
            title: changes.title,
            option_values: changes
                .option_values
                .as_ref()
                .map(values_json)
                .transpose()?,
            price_minor: changes.price_minor,
            compare_at_price_minor: changes.compare_at_price_minor,
        };
        conflicts(
            diesel::update(variants::table.find(variant_id))
                .set((update, variants::updated_at.eq(chrono::Utc::now())))
                .execute(conn),
        )?;
        let product = bump(conn, product_id)?;
        Ok(Some(view(conn, product)?))
    })
}

/// Deletes a variant; `None` when there is no product `product_id`, 404 when
/// the product has no variant `variant_id`.
pub fn delete(
    conn: &mut PgConnection,
    product_id: Uuid,
    variant_id: Uuid,
    if_match: &IfMatch,
) -> Result<Option<ProductView>, ApiError> {
    conn.transaction(|conn| {
        let Some(product) = lock(conn, product_id)? else {
            return Ok(None);
        };
        check_revision(if_match, product.version)?;
        if super::orders::variant_is_ordered(conn, variant_id)? {
            return Err(errors::variant_ordered());
        }
        let deleted = diesel::delete(
            variants::table
                .filter(variants::id.eq(variant_id))
                .filter(variants::product_id.eq(product_id)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(errors::variant_not_found());
        }
        super::stock::refresh(conn, product_id)?;
        let product = bump(conn, product_id)?;
        Ok(Some(view(conn, product)?))
    })
}
