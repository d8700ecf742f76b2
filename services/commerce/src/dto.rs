//! What the commerce routes answer with.

use chrono::{DateTime, Utc};
use common::ApiError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use common::error::{ErrorBody, ErrorEnvelope};

use crate::db::categories::Placed;
use crate::db::images::ProductImage;
use crate::db::models::{CategoryRef, LedgerEntry, ProductView, Variant};
use crate::domain::{default_variant_title, OptionValues, ProductOption, Status};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryDto {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// `null` for a root.
    pub parent_id: Option<Uuid>,
    /// Order among siblings (ties by slug).
    pub position: i32,
    /// The slugs from the root down to this category, joined by `/`
    /// (`clothing/shoes/running`).
    pub path: String,
}

impl From<Placed> for CategoryDto {
    fn from(placed: Placed) -> Self {
        let c = placed.category;
        Self {
            id: c.id,
            slug: c.slug,
            name: c.name,
            parent_id: c.parent_id,
            position: c.position,
            path: placed.path,
        }
    }
}

/// The whole tree, depth first: every category right after its parent's
/// earlier children, siblings by position then slug.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTree {
    pub items: Vec<CategoryDto>,
}

/// A category as a product names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductCategory {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

impl From<CategoryRef> for ProductCategory {
    fn from(c: CategoryRef) -> Self {
        Self {
            id: c.id,
            slug: c.slug,
            name: c.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VariantDto {
    pub id: Uuid,
    pub sku: String,
    /// Its own title, or its option values in the options' order ("M / Red").
    pub title: String,
    /// Option name to this variant's value.
    #[schema(value_type = BTreeMap<String, String>)]
    pub option_values: OptionValues,
    /// In minor units of `currency`.
    pub price_minor: i64,
    /// The price to show struck through; greater than `priceMinor`.
    pub compare_at_price_minor: Option<i64>,
    /// The shop's ISO 4217 currency.
    pub currency: String,
    /// Units that can be sold now: on hand minus reserved by open orders.
    pub available: i64,
}

impl VariantDto {
    fn new(variant: Variant, options: &[ProductOption], currency: &str) -> Result<Self, ApiError> {
        let option_values = variant.option_values()?;
        let available = variant.available();
        Ok(Self {
            id: variant.id,
            title: variant
                .title
                .unwrap_or_else(|| default_variant_title(options, &option_values)),
            sku: variant.sku,
            option_values,
            price_minor: variant.price_minor,
            compare_at_price_minor: variant.compare_at_price_minor,
            currency: currency.to_owned(),
            available,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductDto {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    /// In the order the product lists them.
    pub categories: Vec<ProductCategory>,
    #[schema(schema_with = crate::domain::attributes_schema)]
    pub attributes: serde_json::Value,
    pub options: Vec<ProductOption>,
    /// In the order they were added.
    pub variants: Vec<VariantDto>,
    /// In display order (`PUT /api/products/{id}/images/order` changes it).
    pub images: Vec<ImageDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductDto {
    pub fn new(view: ProductView, currency: &str) -> Result<Self, ApiError> {
        let ProductView {
            product,
            categories,
            variants,
            images,
        } = view;
        let options = product.options()?;
        let status = Status::parse(&product.status).map_err(ApiError::internal)?;
        let variants = variants
            .into_iter()
            .map(|v| VariantDto::new(v, &options, currency))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id: product.id,
            slug: product.slug,
            title: product.title,
            description: product.description,
            status,
            categories: categories.into_iter().map(ProductCategory::from).collect(),
            attributes: product.attributes,
            options,
            variants,
            images: images.into_iter().map(ImageDto::from).collect(),
            created_at: product.created_at,
            updated_at: product.updated_at,
        })
    }
}

/// Where an image's thumbnails are served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThumbnailUrls {
    /// At most 200 pixels wide.
    pub w200: String,
    /// At most 600 pixels wide.
    pub w600: String,
}

/// A product image. URLs are paths of the gateway; each image id names one
/// content for good (a new upload is a new id), so they can be cached forever.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageDto {
    pub id: Uuid,
    /// The original as uploaded.
    pub url: String,
    /// Thumbnails, never wider than the original, aspect kept; JPEG, or PNG
    /// when the image has transparency.
    pub thumbnails: ThumbnailUrls,
    /// Of the original, in pixels.
    pub width: i32,
    pub height: i32,
    /// The original's type, read from its bytes: `image/png`, `image/jpeg` or
    /// `image/webp`.
    pub content_type: String,
    /// 0 for the first image.
    pub position: i32,
}

impl From<ProductImage> for ImageDto {
    fn from(image: ProductImage) -> Self {
        let url = format!("/api/products/{}/images/{}", image.product_id, image.id);
        Self {
            id: image.id,
            thumbnails: ThumbnailUrls {
                w200: format!("{url}?size=w200"),
                w600: format!("{url}?size=w600"),
            },
            url,
            width: image.width,
            height: image.height,
            content_type: image.content_type,
            position: image.position,
        }
    }
}

/// A variant's stock.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryDto {
    pub sku: String,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub on_hand: i64,
    /// Held by open orders.
    pub reserved: i64,
    /// `onHand - reserved`: what can be sold now.
    pub available: i64,
}

impl From<&Variant> for InventoryDto {
    fn from(v: &Variant) -> Self {
        Self {
            sku: v.sku.clone(),
            variant_id: v.id,
            product_id: v.product_id,
            on_hand: v.on_hand,
            reserved: v.reserved,
            available: v.available(),
        }
    }
}

/// One change of a variant's stock, with the counters it left.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryDto {
    pub id: Uuid,
    /// The change of `onHand`.
    pub delta: i64,
    pub reason: String,
    pub on_hand_after: i64,
    pub reserved_after: i64,
    /// Who made it: the subject of their token.
    pub actor_id: String,
    pub created_at: DateTime<Utc>,
}

impl From<LedgerEntry> for LedgerEntryDto {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            delta: e.delta,
            reason: e.reason,
            on_hand_after: e.on_hand_after,
            reserved_after: e.reserved_after,
            actor_id: e.actor_subject,
            created_at: e.created_at,
        }
    }
}

/// An adjustment's answer: the entry written and the stock it left.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentDto {
    pub entry: LedgerEntryDto,
    pub inventory: InventoryDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerPage {
    /// Newest first.
    pub items: Vec<LedgerEntryDto>,
    /// The next page's cursor; `null` on the last page.
    pub next_cursor: Option<String>,
}
