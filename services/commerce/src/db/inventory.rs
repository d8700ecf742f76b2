//! Stock per variant: the counters on the variant's row and the ledger of
//! every change. A change locks the product's row and then the variant's,
//! checks that on hand stays at least reserved, writes the counter and its
//! ledger entry and sets the product's in-stock flag (crate::db::stock) in one
//! transaction, so the ledger always explains the counters.

use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{LedgerEntry, Variant};
use super::schema::{inventory_ledger, variants};
use crate::errors;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Where a newest-first page of a ledger starts: after `(created_at, id)`.
pub type LedgerKey = (DateTime<Utc>, Uuid);

/// A change of on hand, as an admin asks for it.
pub struct Adjustment {
    pub delta: i64,
    pub reason: String,
    pub actor_issuer: String,
    pub actor_subject: String,
}

/// The variant with this SKU, whatever its case.
pub fn find(conn: &mut PgConnection, sku: &str) -> QueryResult<Option<Variant>> {
    variants::table
        .filter(lower(variants::sku).eq(lower(sku)))
        .select(Variant::as_select())
        .first(conn)
        .optional()
}

/// The variant with `sku`, locked with its product: the product first, as
/// catalog writes lock it (then its variants), since a change of stock may
/// flip the product's in-stock flag. A variant write may rename SKUs between
/// the look-up and the locks: the SKU is checked again under them, and looked
/// up once more if it moved.
fn lock_by_sku(conn: &mut PgConnection, sku: &str) -> QueryResult<Option<Variant>> {
    for _ in 0..2 {
        let Some(found) = find(conn, sku)? else {
            return Ok(None);
        };
        super::products::lock(conn, found.product_id)?;
        let locked = variants::table
            .find(found.id)
            .filter(lower(variants::sku).eq(lower(sku)))
            .select(Variant::as_select())
            .for_no_key_update()
            .first(conn)
            .optional()?;
        if locked.is_some() {
            return Ok(locked);
        }
    }
    Ok(None)
}

/// Applies `adjustment` to the variant with `sku`: `None` when there is none,
/// 409 when on hand would fall below reserved.
pub fn adjust(
    conn: &mut PgConnection,
    sku: &str,
    adjustment: &Adjustment,
) -> Result<Option<(Variant, LedgerEntry)>, ApiError> {
    conn.transaction(|conn| {
        let Some(variant) = lock_by_sku(conn, sku)? else {
            return Ok(None);
        };
        let on_hand = variant
            .on_hand
            .checked_add(adjustment.delta)
            .filter(|n| *n >= variant.reserved)
            .ok_or_else(|| errors::below_reserved(&variant, adjustment.delta))?;
        let variant: Variant = diesel::update(variants::table.find(variant.id))
            .set((
                variants::on_hand.eq(on_hand),
                variants::updated_at.eq(Utc::now()),
            ))
            .returning(Variant::as_returning())
            .get_result(conn)?;
        super::stock::refresh(conn, variant.product_id)?;
        let entry: LedgerEntry = diesel::insert_into(inventory_ledger::table)
            .values((
                inventory_ledger::id.eq(Uuid::now_v7()),
                inventory_ledger::variant_id.eq(variant.id),
                inventory_ledger::delta.eq(adjustment.delta),
                inventory_ledger::reason.eq(&adjustment.reason),
                inventory_ledger::on_hand_after.eq(variant.on_hand),
                inventory_ledger::reserved_after.eq(variant.reserved),
                inventory_ledger::actor_issuer.eq(&adjustment.actor_issuer),
                inventory_ledger::actor_subject.eq(&adjustment.actor_subject),
            ))
            .returning(LedgerEntry::as_returning())
            .get_result(conn)?;
        Ok(Some((variant, entry)))
    })
}

/// A page of the ledger of `variant_id`, newest first, after `before`.
pub fn ledger(
    conn: &mut PgConnection,
    variant_id: Uuid,
    before: Option<LedgerKey>,
    limit: i64,
) -> QueryResult<Vec<LedgerEntry>> {
    let mut query = inventory_ledger::table
        .filter(inventory_ledger::variant_id.eq(variant_id))
        .select(LedgerEntry::as_select())
        .order((
            inventory_ledger::created_at.desc(),
            inventory_ledger::id.desc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            inventory_ledger::created_at
                .lt(at)
                .or(inventory_ledger::created_at
                    .eq(at)
                    .and(inventory_ledger::id.lt(id))),
        );
    }
    query.load(conn)
}
