//! The in-stock flag of products (`products.in_stock`: a variant has stock
//! available), which search's facet and filter read instead of probing every
//! match's variants.
//!
//! Orders change stock under their variants' locks and never lock a product
//! (a catalog write locks the product, then its variants: the other order
//! would close a cycle), so a variant whose availability flips only queues its
//! product (`product_stock_changes`, filled by a trigger) and
//! [`apply_changes`] sets the flags of the queued products later, locking them
//! in id order. Writers that hold the product's lock already set its flag at
//! once with [`refresh`].

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::products;

/// The longest a round waits for a product's lock.
const LOCK_WAIT: &str = "2s";

/// Sets the flag of product `id` from its variants; call with the product
/// locked (crate::db::products::lock).
pub(crate) fn refresh(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
    diesel::sql_query("SELECT commerce_refresh_product_stock($1)")
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .map(|_| ())
}

/// One round of the queue: takes up to `batch` queued changes (skipping those
/// another replica is taking), locks their products in id order and sets
/// each flag from the variants as they are now. Returns how many queued
/// changes it took and how many flags it changed.
///
/// The flags are computed by a statement that starts after the products are
/// locked, so a writer that set a flag and committed before is seen; a
/// change committed after the queue was read is still queued for the next
/// round (this takes READ COMMITTED, the pool's isolation: each statement
/// its own snapshot). A product some write holds longer than [`LOCK_WAIT`]
/// ends the round: its changes go back to the queue (the transaction rolls
/// back) rather than every product of the batch waiting behind it.
pub fn apply_changes(conn: &mut PgConnection, batch: usize) -> QueryResult<(usize, usize)> {
    #[derive(QueryableByName)]
    struct Queued {
        #[diesel(sql_type = SqlUuid)]
        product_id: Uuid,
    }
    conn.transaction(|conn| {
        diesel::sql_query(format!("SET LOCAL lock_timeout = '{LOCK_WAIT}'")).execute(conn)?;
        let queued = diesel::sql_query(
            "DELETE FROM product_stock_changes WHERE id IN (
                 SELECT id FROM product_stock_changes ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING product_id",
        )
        .bind::<BigInt, _>(i64::try_from(batch).unwrap_or(i64::MAX))
        .load::<Queued>(conn)?;
        if queued.is_empty() {
            return Ok((0, 0));
        }
        let mut ids: Vec<Uuid> = queued.iter().map(|q| q.product_id).collect();
        ids.sort_unstable();
        ids.dedup();
        products::table
            .filter(products::id.eq_any(&ids))
            .order(products::id)
            .select(products::id)
            .for_no_key_update()
            .load::<Uuid>(conn)?;
        let flipped = diesel::sql_query(
            "UPDATE products p SET in_stock = s.yes
             FROM (SELECT q.id, EXISTS (SELECT 1 FROM variants v
                                        WHERE v.product_id = q.id AND v.on_hand > v.reserved) AS yes
                   FROM unnest($1::uuid[]) AS q(id)) s
             WHERE p.id = s.id AND p.in_stock <> s.yes",
        )
        .bind::<Array<SqlUuid>, _>(&ids)
        .execute(conn)?;
        Ok((queued.len(), flipped))
    })
}
