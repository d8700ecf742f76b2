use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{categories, products, variants};
use crate::domain::{OptionValues, ProductOption};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub struct Category {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct Product {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub attributes: serde_json::Value,
    /// [`ProductOption`]s.
    pub options: serde_json::Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    pub fn options(&self) -> Result<Vec<ProductOption>, ApiError> {
        stored_options(self.options.clone())
    }
}

/// A product's stored `options` column, read.
pub fn stored_options(options: serde_json::Value) -> Result<Vec<ProductOption>, ApiError> {
    serde_json::from_value(options)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("stored options")))
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = variants, check_for_backend(diesel::pg::Pg))]
pub struct Variant {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub title: Option<String>,
    /// [`OptionValues`].
    pub option_values: serde_json::Value,
    pub price_minor: i64,
    pub compare_at_price_minor: Option<i64>,
    pub on_hand: i64,
    pub reserved: i64,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Variant {
    pub fn option_values(&self) -> Result<OptionValues, ApiError> {
        serde_json::from_value(self.option_values.clone())
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("stored option values")))
    }

    /// What can still be sold.
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// A product's category as its answers name it.
#[derive(Debug, Clone, Queryable)]
pub struct CategoryRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// A product with its categories (in the order given), variants and images
/// (in display order: `super::images::of_product`, or `images_of_many` for a
/// batch).
#[derive(Debug, Clone)]
pub struct ProductView {
    pub product: Product,
    pub categories: Vec<CategoryRef>,
    pub variants: Vec<Variant>,
    pub images: Vec<super::images::ProductImage>,
}

/// One change of a variant's stock, never edited.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::inventory_ledger, check_for_backend(diesel::pg::Pg))]
pub struct LedgerEntry {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub delta: i64,
    pub reason: String,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    pub actor_issuer: String,
    pub actor_subject: String,
    pub created_at: DateTime<Utc>,
}
