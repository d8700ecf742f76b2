//! Products with their category links. Every write locks the product's row
//! (`FOR NO KEY UPDATE`), checks `If-Match` against its revision, and adds one to the
//! revision in the same transaction: concurrent writes of one product happen
//! one after the other, and a stale one is refused instead of overwriting.
//!
//! `DELETE` removes a product with its variants and their stock ledgers:
//! nothing outside the catalog refers to a product yet. Once orders reference
//! variants, a referenced product must be archived instead (the rule),
//! so this delete must then archive those and delete only the others.

use common::error::ResultExt;
use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{CategoryRef, Product, ProductView, Variant};
use super::schema::{categories, product_categories, products, variants};
use crate::domain::{etag, IfMatch, ProductOption, Slug, Status, VariantFields};
use crate::errors;

/// How a product is named in a read: by id, or by slug.
#[derive(Debug, Clone)]
pub enum Lookup {
    Id(Uuid),
    Slug(String),
}

impl Lookup {
    /// A UUID is an id (slugs are never UUIDs); anything else a slug.
    pub fn of(raw: &str) -> Self {
        match Uuid::parse_str(raw) {
            Ok(id) => Self::Id(id),
            Err(_) => Self::Slug(raw.to_owned()),
        }
    }
}

/// A new product; `slug: None` makes one from the title.
pub struct NewProduct {
    pub slug: Option<Slug>,
    pub title: String,
    pub description: Option<String>,
    pub status: Status,
    /// Slugs, in the order the product lists them.
    pub categories: Vec<String>,
    pub attributes: serde_json::Value,
    pub options: Vec<ProductOption>,
    pub variants: Vec<VariantFields>,
}

/// What a PATCH changes; `description: Some(None)` removes it.
#[derive(Default)]
pub struct ProductChanges {
    pub slug: Option<Slug>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<Status>,
    pub categories: Option<Vec<String>>,
    pub attributes: Option<serde_json::Value>,
    pub options: Option<Vec<ProductOption>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = products)]
struct ProductUpdate {
    slug: Option<String>,
    title: Option<String>,
    description: Option<Option<String>>,
    status: Option<String>,
    attributes: Option<serde_json::Value>,
    options: Option<serde_json::Value>,
}

fn json_of<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))
}

pub fn find(conn: &mut PgConnection, lookup: &Lookup) -> QueryResult<Option<Product>> {
    let query = products::table.select(Product::as_select()).into_boxed();
    let query = match lookup {
        Lookup::Id(id) => query.filter(products::id.eq(*id)),
        Lookup::Slug(slug) => query.filter(products::slug.eq(slug)),
    };
    query.first(conn).optional()
}

/// The product with its categories, variants and images.
pub fn view(conn: &mut PgConnection, product: Product) -> QueryResult<ProductView> {
    let categories = product_categories::table
        .inner_join(categories::table)
        .filter(product_categories::product_id.eq(product.id))
        .order(product_categories::position)
        .select((categories::id, categories::slug, categories::name))
        .load::<CategoryRef>(conn)?;
    let variants = variants_of(conn, product.id)?;
    let images = super::images::of_product(conn, product.id)?;
    Ok(ProductView {
        product,
        categories,
        variants,
        images,
    })
}

pub(crate) fn variants_of(conn: &mut PgConnection, product_id: Uuid) -> QueryResult<Vec<Variant>> {
    variants::table
        .filter(variants::product_id.eq(product_id))
        .order((variants::position, variants::id))
        .select(Variant::as_select())
        .load(conn)
}

/// The product's row, locked until the transaction ends. FOR NO KEY UPDATE:
/// catalog writes wait for each other, but not for orders, whose lines' key
/// share of the product they take while holding their variants' locks (FOR
/// UPDATE would close a cycle with a write that holds the product and waits
/// for one of those variants).
pub(crate) fn lock(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Product>> {
    products::table
        .find(id)
        .select(Product::as_select())
        .for_no_key_update()
        .first(conn)
        .optional()
}

/// 412 unless `if_match` allows the revision `version`.
pub(crate) fn check_revision(if_match: &IfMatch, version: i64) -> Result<(), ApiError> {
    if if_match.allows(version) {
        Ok(())
    } else {
        Err(errors::precondition_failed(&etag(version)))
    }
}

/// Counts a revision of the product (a write of its variants).
pub(crate) fn bump(conn: &mut PgConnection, id: Uuid) -> QueryResult<Product> {
    diesel::update(products::table.find(id))
        .set((
            products::version.eq(products::version + 1),
            products::updated_at.eq(chrono::Utc::now()),
        ))
        .returning(Product::as_returning())
        .get_result(conn)
}

/// The ids of the categories named by `slugs`, in order; 422 naming the
/// unknown ones. They are key-share locked so that none is deleted before the
/// links to it are written.
fn resolve_categories(conn: &mut PgConnection, slugs: &[String]) -> Result<Vec<Uuid>, ApiError> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(Uuid, String)> = categories::table
        .filter(categories::slug.eq_any(slugs))
        .select((categories::id, categories::slug))
        .for_key_share()
        .load(conn)?;
    let mut ids = Vec::with_capacity(slugs.len());
    let mut missing = Vec::new();
    for slug in slugs {
        match found.iter().find(|(_, s)| s == slug) {
            Some((id, _)) => ids.push(*id),
            None => missing.push(slug.as_str()),
        }
    }
    if missing.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::validation(
            "categories",
            &format!("names no category: {}", missing.join(", ")),
        ))
    }
}

fn link_categories(conn: &mut PgConnection, product_id: Uuid, ids: &[Uuid]) -> QueryResult<()> {
    diesel::delete(product_categories::table.filter(product_categories::product_id.eq(product_id)))
        .execute(conn)?;
    let rows: Vec<_> = ids
        .iter()
        .zip(0..)
        .map(|(id, position): (&Uuid, i32)| {
            (
                product_categories::product_id.eq(product_id),
                product_categories::category_id.eq(*id),
                product_categories::position.eq(position),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(product_categories::table)
            .values(rows)
            .execute(conn)?;
    }
    Ok(())
}

fn free_slug(conn: &mut PgConnection, base: &Slug) -> QueryResult<Slug> {
    super::lock_slug(conn, "product", base.as_str())?;
    let taken: Vec<String> = products::table
        .select(products::slug)
        .filter(
            products::slug
                .eq(base.as_str())
                .or(products::slug.like(format!("{}-%", base.as_str()))),
        )
        .load(conn)?;
    Ok(super::first_free(base, &taken))
}

pub fn create(conn: &mut PgConnection, new: NewProduct) -> Result<ProductView, ApiError> {
    let options = json_of(&new.options)?;
    conn.transaction(|conn| {
        let category_ids = resolve_categories(conn, &new.categories)?;
        let slug = match &new.slug {
            Some(slug) => slug.clone(),
            None => free_slug(conn, &Slug::from_title(&new.title, "product"))?,
        };
        let product: Product = diesel::insert_into(products::table)
            .values((
                products::id.eq(Uuid::now_v7()),
                products::slug.eq(slug.as_str()),
                products::title.eq(&new.title),
                products::description.eq(&new.description),
                products::status.eq(new.status.as_str()),
                products::attributes.eq(&new.attributes),
                products::options.eq(&options),
            ))
            .returning(Product::as_returning())
            .get_result(conn)
            .on_constraint("products_slug_key", errors::slug_taken)?;
        link_categories(conn, product.id, &category_ids)?;
        for (variant, position) in new.variants.iter().zip(0..) {
            super::variants::insert(conn, product.id, variant, position)?;
        }
        Ok(view(conn, product)?)
    })
}

/// `None` when there is no product `id`.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    if_match: &IfMatch,
    changes: ProductChanges,
) -> Result<Option<ProductView>, ApiError> {
    conn.transaction(|conn| {
        let Some(current) = lock(conn, id)? else {
            return Ok(None);
        };
        check_revision(if_match, current.version)?;
        if let Some(options) = &changes.options {
            // The variants keep their values: each must still name one value
            // of each option.
            let mut errors = common::FieldErrors::new();
            for variant in variants_of(conn, id)? {
                if let Err(e) = crate::domain::check_values(options, &variant.option_values()?) {
                    errors.add(
                        "options",
                        format!("variant {}: optionValues {e}", variant.sku),
                    );
                }
            }
            errors.into_result()?;
        }
        if let Some(slugs) = &changes.categories {
            let ids = resolve_categories(conn, slugs)?;
            link_categories(conn, id, &ids)?;
        }
        let update = ProductUpdate {
            slug: changes.slug.map(Slug::into_inner),
            title: changes.title,
            description: changes.description,
            status: changes.status.map(|s| s.as_str().to_owned()),
            attributes: changes.attributes,
            options: changes.options.as_ref().map(json_of).transpose()?,
        };
        let product: Product = diesel::update(products::table.find(id))
            .set((
                update,
                products::version.eq(products::version + 1),
                products::updated_at.eq(chrono::Utc::now()),
            ))
            .returning(Product::as_returning())
            .get_result(conn)
            .on_constraint("products_slug_key", errors::slug_taken)?;
        Ok(Some(view(conn, product)?))
    })
}

/// What deleting a product did.
pub enum Deletion {
    Deleted,
    /// Orders name it: archived instead (hidden from customers, kept for the
    /// orders' lines and reports).
    Archived(Box<ProductView>),
    NotFound,
}

/// Deletes product `id`, or archives it when orders name it.
pub fn delete(conn: &mut PgConnection, id: Uuid, if_match: &IfMatch) -> Result<Deletion, ApiError> {
    conn.transaction(|conn| {
        let Some(current) = lock(conn, id)? else {
            return Ok(Deletion::NotFound);
        };
        check_revision(if_match, current.version)?;
        if super::orders::product_is_ordered(conn, id)? {
            diesel::update(products::table.find(id))
                .set(products::status.eq(crate::domain::Status::Archived.as_str()))
                .execute(conn)?;
            let product = bump(conn, id)?;
            return Ok(Deletion::Archived(Box::new(view(conn, product)?)));
        }
        diesel::delete(products::table.find(id)).execute(conn)?;
        Ok(Deletion::Deleted)
    })
}
