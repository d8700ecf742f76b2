//! Carts: a user's variants and quantities, priced when read. Nothing is
//! reserved by a cart; the stock it shows is what is available now.

use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{Product, Variant};
use super::orders::Owner;
use super::schema::cart_items;
use super::schema::{products, variants};

/// The most distinct variants a cart holds.
pub const MAX_ITEMS: i64 = 100;

/// One line of a cart with what it is now.
#[derive(Debug, Clone)]
pub struct CartLine {
    pub quantity: i64,
    pub variant: Variant,
    pub product: Product,
}

impl CartLine {
    /// Units for sale now: none when the product is no longer active.
    pub fn available(&self) -> i64 {
        if self.product.status == "active" {
            self.variant.available().max(0)
        } else {
            0
        }
    }
}

fn mine(owner: &Owner) -> cart_items::BoxedQuery<'static, diesel::pg::Pg> {
    cart_items::table
        .filter(cart_items::owner_issuer.eq(owner.issuer.clone()))
        .filter(cart_items::owner_subject.eq(owner.subject.clone()))
        .into_boxed()
}

/// `owner`'s cart, in the order items were first added.
pub fn lines(conn: &mut PgConnection, owner: &Owner) -> QueryResult<Vec<CartLine>> {
    let rows: Vec<(i64, Variant, Product)> = mine(owner)
        .inner_join(variants::table.inner_join(products::table))
        .order((cart_items::added_at, cart_items::variant_id))
        .select((
            cart_items::quantity,
            Variant::as_select(),
            Product::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(quantity, variant, product)| CartLine {
            quantity,
            variant,
            product,
        })
        .collect())
}

/// What setting a quantity came to.
pub enum SetOutcome {
    Done,
    /// No variant `id` for sale.
    NoVariant,
    /// More than is available: how many are.
    Short {
        sku: String,
        available: i64,
    },
    /// The cart already holds `MAX_ITEMS` other variants.
    Full,
}

/// Sets `owner`'s quantity of variant `id` (0 removes it).
pub fn set(
    conn: &mut PgConnection,
    owner: &Owner,
    id: Uuid,
    quantity: i64,
) -> Result<SetOutcome, ApiError> {
    conn.transaction(|conn| {
        if quantity == 0 {
            diesel::delete(
                cart_items::table
                    .filter(cart_items::owner_issuer.eq(&owner.issuer))
                    .filter(cart_items::owner_subject.eq(&owner.subject))
                    .filter(cart_items::variant_id.eq(id)),
            )
            .execute(conn)?;
            return Ok(SetOutcome::Done);
        }
        let Some((variant, product)) = variants::table
            .inner_join(products::table)
            .filter(variants::id.eq(id))
            .select((Variant::as_select(), Product::as_select()))
            .first::<(Variant, Product)>(conn)
            .optional()?
        else {
            return Ok(SetOutcome::NoVariant);
        };
        if product.status != "active" {
            return Ok(SetOutcome::NoVariant);
        }
        let line = CartLine {
            quantity,
            variant,
            product,
        };
        if line.available() < quantity {
            return Ok(SetOutcome::Short {
                sku: line.variant.sku.clone(),
                available: line.available(),
            });
        }
        // The user's other items, counted under an advisory lock so that two
        // concurrent additions cannot both pass the limit.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(format!(
                "commerce:cart:{}:{}",
                owner.issuer, owner.subject
            ))
            .execute(conn)?;
        let others: i64 = mine(owner)
            .filter(cart_items::variant_id.ne(id))
            .count()
            .get_result(conn)?;
        if others >= MAX_ITEMS {
            return Ok(SetOutcome::Full);
        }
        diesel::insert_into(cart_items::table)
            .values((
                cart_items::owner_issuer.eq(&owner.issuer),
                cart_items::owner_subject.eq(&owner.subject),
                cart_items::variant_id.eq(id),
                cart_items::quantity.eq(quantity),
            ))
            .on_conflict((
                cart_items::owner_issuer,
                cart_items::owner_subject,
                cart_items::variant_id,
            ))
            .do_update()
            .set(cart_items::quantity.eq(quantity))
            .execute(conn)?;
        Ok(SetOutcome::Done)
    })
}

/// Empties `owner`'s cart.
pub fn clear(conn: &mut PgConnection, owner: &Owner) -> QueryResult<usize> {
    diesel::delete(
        cart_items::table
            .filter(cart_items::owner_issuer.eq(&owner.issuer))
            .filter(cart_items::owner_subject.eq(&owner.subject)),
    )
    .execute(conn)
}
