//! Queries of images. Every write locks the product's row first (as the
//! product's own writes do), so the count, the positions and the revision of
//! one product change one writer at a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::products::{bump, lock};
use super::schema::product_images;
use super::schema::products;

/// The most images a product may have.
pub const MAX_IMAGES: usize = 20;

/// One image of a product, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = product_images, check_for_backend(diesel::pg::Pg))]
pub struct ProductImage {
    pub id: Uuid,
    pub product_id: Uuid,
    /// 0, 1, 2, ... in display order.
    pub position: i32,
    pub content_type: String,
    pub thumbnail_type: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    /// Hex SHA-256 prefix of the original.
    pub digest: String,
    pub created_at: DateTime<Utc>,
}

/// An image whose objects are stored, to be added after the others.
pub struct NewImage {
    pub id: Uuid,
    pub content_type: String,
    pub thumbnail_type: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    pub digest: String,
}

/// What an image write found.
pub enum Outcome<T> {
    Done(T),
    NoProduct,
    /// The product has [`MAX_IMAGES`] already.
    Full,
    NoImage,
}

/// The product's images in display order.
pub fn of_product(conn: &mut PgConnection, product_id: Uuid) -> QueryResult<Vec<ProductImage>> {
    product_images::table
        .filter(product_images::product_id.eq(product_id))
        .order(product_images::position)
        .select(ProductImage::as_select())
        .load(conn)
}

/// The images of many products at once (one query), each list in display
/// order; a product without images has no entry.
pub fn images_of_many(
    conn: &mut PgConnection,
    product_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<ProductImage>>> {
    let rows: Vec<ProductImage> = product_images::table
        .filter(product_images::product_id.eq_any(product_ids))
        .order((product_images::product_id, product_images::position))
        .select(ProductImage::as_select())
        .load(conn)?;
    let mut by_product: HashMap<Uuid, Vec<ProductImage>> = HashMap::new();
    for row in rows {
        by_product.entry(row.product_id).or_default().push(row);
    }
    Ok(by_product)
}

/// How many images product `id` has; `None` when there is no such product.
pub fn count(conn: &mut PgConnection, product_id: Uuid) -> QueryResult<Option<usize>> {
    let exists = products::table
        .find(product_id)
        .select(products::id)
        .first::<Uuid>(conn)
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    let n: i64 = product_images::table
        .filter(product_images::product_id.eq(product_id))
        .count()
        .get_result(conn)?;
    Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
}

/// Image `image_id` of product `product_id`, with the product's status.
pub fn find(
    conn: &mut PgConnection,
    product_id: Uuid,
    image_id: Uuid,
) -> QueryResult<Option<(ProductImage, String)>> {
    product_images::table
        .inner_join(products::table)
        .filter(product_images::id.eq(image_id))
        .filter(product_images::product_id.eq(product_id))
        .select((ProductImage::as_select(), products::status))
        .first(conn)
        .optional()
}

/// Adds `new` after the product's other images and counts a revision.
pub fn add(
    conn: &mut PgConnection,
    product_id: Uuid,
    new: NewImage,
) -> Result<Outcome<ProductImage>, ApiError> {
    conn.transaction(|conn| {
        if lock(conn, product_id)?.is_none() {
            return Ok(Outcome::NoProduct);
        }
        let existing = of_product(conn, product_id)?;
        if existing.len() >= MAX_IMAGES {
            return Ok(Outcome::Full);
        }
        let position = i32::try_from(existing.len()).unwrap_or(i32::MAX);
        let image = diesel::insert_into(product_images::table)
            .values((
                product_images::id.eq(new.id),
                product_images::product_id.eq(product_id),
                product_images::position.eq(position),
                product_images::content_type.eq(&new.content_type),
                product_images::thumbnail_type.eq(&new.thumbnail_type),
                product_images::width.eq(new.width),
                product_images::height.eq(new.height),
                product_images::byte_size.eq(new.byte_size),
                product_images::digest.eq(&new.digest),
            ))
            .returning(ProductImage::as_returning())
            .get_result(conn)?;
        bump(conn, product_id)?;
        Ok(Outcome::Done(image))
    })
}

/// Puts the images in the order of `ids`, which must name each of the
/// product's images once (422 on `ids` otherwise); counts a revision.
pub fn reorder(
    conn: &mut PgConnection,
    product_id: Uuid,
    ids: &[Uuid],
) -> Result<Outcome<Vec<ProductImage>>, ApiError> {
    conn.transaction(|conn| {
        if lock(conn, product_id)?.is_none() {
            return Ok(Outcome::NoProduct);
        }
        let existing = of_product(conn, product_id)?;
        let mut wanted: Vec<Uuid> = ids.to_vec();
        let mut have: Vec<Uuid> = existing.iter().map(|i| i.id).collect();
        wanted.sort_unstable();
        have.sort_unstable();
        if wanted != have {
            return Err(ApiError::validation(
                "ids",
                &format!(
                    "must list each of the product's {} image ids exactly once",
                    existing.len()
                ),
            ));
        }
        // The unique (product, position) is checked at commit: the positions
        // may collide between these statements.
        for (id, position) in ids.iter().zip(0..) {
            diesel::update(product_images::table.find(*id))
                .set(product_images::position.eq(position))
                .execute(conn)?;
        }
        bump(conn, product_id)?;
        Ok(Outcome::Done(of_product(conn, product_id)?))
    })
}

/// Removes image `image_id` and closes the gap in the positions; counts a
/// revision. The removed row says which objects to delete.
pub fn remove(
    conn: &mut PgConnection,
    product_id: Uuid,
    image_id: Uuid,
) -> Result<Outcome<ProductImage>, ApiError> {
    conn.transaction(|conn| {
        if lock(conn, product_id)?.is_none() {
            return Ok(Outcome::NoProduct);
        }
        let removed: Option<ProductImage> = diesel::delete(
            product_images::table
                .filter(product_images::id.eq(image_id))
                .filter(product_images::product_id.eq(product_id)),
        )
        .returning(ProductImage::as_returning())
        .get_result(conn)
        .optional()?;
        let Some(removed) = removed else {
            return Ok(Outcome::NoImage);
        };
        diesel::update(
            product_images::table
                .filter(product_images::product_id.eq(product_id))
                .filter(product_images::position.gt(removed.position)),
        )
        .set(product_images::position.eq(product_images::position - 1))
        .execute(conn)?;
        bump(conn, product_id)?;
        Ok(Outcome::Done(removed))
    })
}
