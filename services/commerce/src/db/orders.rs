//! Orders and the stock they hold. Placing an order locks the variants it names
//! in id order (every writer of `variants.reserved` takes them in that order,
//! so two orders over the same variants in opposite orders wait for each other
//! instead of deadlocking), checks that each has the quantity available, and
//! in the same transaction reserves it and writes the order with snapshot
//! lines. A transition locks the order's row first, then its variants in id
//! order: `reserved` always equals the sum of the lines of open (placed or
//! paid) orders.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::db::Prepared;
use common::ApiError;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::{stored_options, Product, Variant};
use super::schema::{inventory_ledger, variants};
use super::schema::{order_lines, orders};
use crate::domain::{default_variant_title, ProductOption};
use crate::errors;

/// Whose cart or order: the token's issuer and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub issuer: String,
    pub subject: String,
}

impl Owner {
    pub fn of(user: &common::tokens::AuthUser) -> Self {
        Self {
            issuer: user.issuer.clone(),
            subject: user.subject.clone(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct Order {
    pub id: Uuid,
    pub owner_issuer: String,
    pub owner_subject: String,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub expires_at: DateTime<Utc>,
    pub placed_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_lines, check_for_backend(diesel::pg::Pg))]
pub struct OrderLine {
    pub order_id: Uuid,
    pub position: i32,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
}

/// An order with its lines, in the order they were given.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: Order,
    pub lines: Vec<OrderLine>,
}

/// The statuses an order moves through.
pub const PLACED: &str = "placed";
pub const PAID: &str = "paid";
pub const FULFILLED: &str = "fulfilled";
pub const CANCELLED: &str = "cancelled";
pub const EXPIRED: &str = "expired";

/// What a placement asks for: variants and quantities, lines of one variant
/// summed, in the order first named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted(Vec<(Uuid, i64)>);

impl Wanted {
    /// Sums the quantities of lines naming the same variant; `None` if a sum
    /// overflows.
    pub fn summed(lines: impl IntoIterator<Item = (Uuid, i64)>) -> Option<Self> {
        let mut order: Vec<(Uuid, i64)> = Vec::new();
        for (id, quantity) in lines {
            match order.iter_mut().find(|(v, _)| *v == id) {
                Some((_, q)) => *q = q.checked_add(quantity)?,
                None => order.push((id, quantity)),
            }
        }
        Some(Self(order))
    }

    pub fn lines(&self) -> &[(Uuid, i64)] {
        &self.0
    }
}

/// A variant, locked for a change of its counters, with what an order line
/// takes from its product.
struct Locked {
    variant: Variant,
    product_title: String,
    product_status: String,
    product_options: Vec<ProductOption>,
}

/// Locks the variants `ids` in id order and reads them with their products,
/// in one statement: FOR NO KEY UPDATE OF the variants alone (their counters
/// change, never their key; the products are read, not locked). The ones
/// that exist, by id.
fn lock_variants(
    conn: &mut PgConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<BTreeMap<Uuid, Locked>, ApiError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        variant: Variant,
        #[diesel(sql_type = Text)]
        product_title: String,
        #[diesel(sql_type = Text)]
        product_status: String,
        #[diesel(sql_type = Jsonb)]
        product_options: serde_json::Value,
    }
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<Row> = Prepared::new(
        // Columns named, never `*`: a prepared statement whose columns change
        // (a migration adding one while replicas serve) fails until the
        // connection is closed.
        "SELECT v.id, v.product_id, v.sku, v.title, v.option_values, v.price_minor,
                v.compare_at_price_minor, v.on_hand, v.reserved, v.position, v.created_at,
                v.updated_at,
                p.title AS product_title, p.status AS product_status, p.options AS product_options
         FROM variants v JOIN products p ON p.id = v.product_id
         WHERE v.id = ANY($1)
         ORDER BY v.id
         FOR NO KEY UPDATE OF v",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)?;
    rows.into_iter()
        .map(|row| {
            Ok((
                row.variant.id,
                Locked {
                    variant: row.variant,
                    product_title: row.product_title,
                    product_status: row.product_status,
                    product_options: stored_options(row.product_options)?,
                },
            ))
        })
        .collect()
}

/// Adds `delta` to the reserved count of variant `id`.
fn reserve(conn: &mut PgConnection, id: Uuid, delta: i64) -> QueryResult<()> {
    diesel::update(variants::table.find(id))
        .set((
            variants::reserved.eq(variants::reserved + delta),
            variants::updated_at.eq(Utc::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A line's title: the product's, with the variant's own or its option
/// values ("Tee (M / Red)").
pub(crate) fn line_title(product: &Product, variant: &Variant) -> Result<String, ApiError> {
    titled(&product.title, &product.options()?, variant)
}

fn titled(
    product_title: &str,
    options: &[ProductOption],
    variant: &Variant,
) -> Result<String, ApiError> {
    let own = match &variant.title {
        Some(t) => t.clone(),
        None => default_variant_title(options, &variant.option_values()?),
    };
    Ok(if own.is_empty() {
        product_title.to_owned()
    } else {
        format!("{product_title} ({own})")
    })
}

/// A placement's outcome when it cannot be placed.
#[derive(Debug)]
pub enum Refusal {
    /// The line at this index names no variant.
    Unknown(usize),
    /// Not enough of this variant for sale (0 when its product is not active).
    Short {
        variant_id: Uuid,
        sku: String,
        requested: i64,
        available: i64,
    },
}

/// Places an order for `owner`, in the caller's transaction (its locks must
/// last until the order is written; `idempotency::run_with_connection` gives
/// one, and a call outside one is refused): reserves `wanted`, writes the
/// order (expiring after `timeout`) and, when `from_cart`, empties the cart.
/// `Err(Refusal)` inside `Ok` when some line cannot be had: nothing is written
/// then, and the transaction still holds the variants' locks and
/// `plan_cache_mode` until it ends (the caller rolls back a refusal).
///
/// Three round trips: the setting, the locking read and [`PLACE`], both
/// prepared statements run on their generic plans. (PostgreSQL would otherwise
/// plan them again for every order: a plan for the actual arrays always looks
/// cheaper than one for arrays of unknown length, and planning them took
/// longer than running them.)
pub fn place(
    conn: &mut PgConnection,
    owner: &Owner,
    wanted: &Wanted,
    currency: &str,
    timeout: Duration,
    from_cart: bool,
) -> Result<Result<OrderView, Refusal>, ApiError> {
    if AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_none()
    {
        return Err(ApiError::internal(
            "an order is placed in the caller's transaction",
        ));
    }
    diesel::connection::SimpleConnection::batch_execute(
        conn,
        "SET LOCAL plan_cache_mode = force_generic_plan",
    )?;
    let locked = lock_variants(conn, wanted.lines().iter().map(|(id, _)| *id))?;
    let id = Uuid::now_v7();
    let mut lines = Vec::with_capacity(wanted.lines().len());
    let mut total: i64 = 0;
    for (index, (variant_id, quantity)) in wanted.lines().iter().enumerate() {
        let Some(Locked {
            variant,
            product_title,
            product_status,
            product_options,
        }) = locked.get(variant_id)
        else {
            return Ok(Err(Refusal::Unknown(index)));
        };
        let available = if product_status == "active" {
            variant.available().max(0)
        } else {
            0
        };
        if available < *quantity {
            return Ok(Err(Refusal::Short {
                variant_id: *variant_id,
                sku: variant.sku.clone(),
                requested: *quantity,
                available,
            }));
        }
        total = quantity
            .checked_mul(variant.price_minor)
            .and_then(|line| total.checked_add(line))
            .ok_or_else(errors::total_too_large)?;
        lines.push(OrderLine {
            order_id: id,
            position: i32::try_from(index).map_err(ApiError::internal)?,
            variant_id: *variant_id,
            product_id: variant.product_id,
            sku: variant.sku.clone(),
            title: titled(product_title, product_options, variant)?,
            quantity: *quantity,
            unit_price_minor: variant.price_minor,
        });
    }
    // As PostgreSQL keeps it (microseconds), so the answer reads as a later GET.
    let now = Utc::now().trunc_subsecs(6);
    let order = Order {
        id,
        owner_issuer: owner.issuer.clone(),
        owner_subject: owner.subject.clone(),
        status: PLACED.to_owned(),
        currency: currency.to_owned(),
        total_minor: total,
        expires_at: now + timeout,
        placed_at: now,
        paid_at: None,
        fulfilled_at: None,
        closed_at: None,
        updated_at: now,
    };
    let (variant_ids, quantities): (Vec<Uuid>, Vec<i64>) = wanted.lines().iter().copied().unzip();
    let column = |f: fn(&OrderLine) -> String| lines.iter().map(f).collect::<Vec<_>>();
    Prepared::new(PLACE)
        .bind::<Timestamptz, _>(now)
        .bind::<Array<SqlUuid>, _>(variant_ids)
        .bind::<Array<BigInt>, _>(quantities)
        .bind::<SqlUuid, _>(order.id)
        .bind::<Text, _>(&order.owner_issuer)
        .bind::<Text, _>(&order.owner_subject)
        .bind::<Text, _>(PLACED)
        .bind::<Text, _>(&order.currency)
        .bind::<BigInt, _>(order.total_minor)
        .bind::<Timestamptz, _>(order.expires_at)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(now)
        .bind::<Bool, _>(from_cart)
        .bind::<Text, _>(&order.owner_issuer)
        .bind::<Text, _>(&order.owner_subject)
        .bind::<SqlUuid, _>(order.id)
        .bind::<Array<Integer>, _>(lines.iter().map(|l| l.position).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(lines.iter().map(|l| l.variant_id).collect::<Vec<_>>())
        .bind::<Array<SqlUuid>, _>(lines.iter().map(|l| l.product_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(column(|l| l.sku.clone()))
        .bind::<Array<Text>, _>(column(|l| l.title.clone()))
        .bind::<Array<BigInt>, _>(lines.iter().map(|l| l.quantity).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(lines.iter().map(|l| l.unit_price_minor).collect::<Vec<_>>())
        .execute(conn)?;
    Ok(Ok(OrderView { order, lines }))
}

/// A placement's writes in one statement (each statement is a round trip to
/// PostgreSQL, and an uncontended order is mostly round trips): the
/// reservations, the order, the cart emptied when the order was placed from
/// it, and the lines. The variants are locked already, by [`lock_variants`].
const PLACE: &str = "WITH reserved AS (
    UPDATE variants v SET reserved = v.reserved + w.quantity, updated_at = $1
    FROM unnest($2::uuid[], $3::bigint[]) AS w(id, quantity)
    WHERE v.id = w.id
), placed AS (
    INSERT INTO orders (id, owner_issuer, owner_subject, status, currency, total_minor,
                        expires_at, placed_at, updated_at)
    VALUES ($4, $5, $6, $7, $8, $9, $10, $11, $12)
), emptied AS (
    DELETE FROM cart_items WHERE $13 AND owner_issuer = $14 AND owner_subject = $15
)
INSERT INTO order_lines (order_id, position, variant_id, product_id, sku, title, quantity,
                         unit_price_minor)
SELECT $16, l.position, l.variant_id, l.product_id, l.sku, l.title, l.quantity, l.unit_price_minor
FROM unnest($17::int[], $18::uuid[], $19::uuid[], $20::text[], $21::text[], $22::bigint[],
            $23::bigint[])
     AS l(position, variant_id, product_id, sku, title, quantity, unit_price_minor)";

fn lines_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<OrderLine>> {
    order_lines::table
        .filter(order_lines::order_id.eq_any(ids))
        .order((order_lines::order_id, order_lines::position))
        .select(OrderLine::as_select())
        .load(conn)
}

fn with_lines(conn: &mut PgConnection, list: Vec<Order>) -> QueryResult<Vec<OrderView>> {
    let ids: Vec<Uuid> = list.iter().map(|o| o.id).collect();
    let mut lines = lines_of(conn, &ids)?;
    Ok(list
        .into_iter()
        .map(|order| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                lines.drain(..).partition(|l| l.order_id == order.id);
            lines = rest;
            OrderView { order, lines: mine }
        })
        .collect())
}

/// Order `id` with its lines.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<OrderView>> {
    let Some(order) = orders::table
        .find(id)
        .select(Order::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let lines = lines_of(conn, &[id])?;
    Ok(Some(OrderView { order, lines }))
}

/// A page of orders, newest first: `owner`'s, or everyone's (with `status`).
pub fn list(
    conn: &mut PgConnection,
    owner: Option<&Owner>,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<OrderView>, i64)> {
    let filtered = || {
        let mut query = orders::table.into_boxed();
        if let Some(owner) = owner {
            query = query
                .filter(orders::owner_issuer.eq(owner.issuer.clone()))
                .filter(orders::owner_subject.eq(owner.subject.clone()));
        }
        if let Some(status) = status {
            query = query.filter(orders::status.eq(status.to_owned()));
        }
        query
    };
    let total = filtered().count().get_result(conn)?;
    let page = filtered()
        .order((orders::placed_at.desc(), orders::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Order::as_select())
        .load(conn)?;
    Ok((with_lines(conn, page)?, total))
}

/// A change of an order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Pay,
    Fulfil,
    Cancel,
    Expire,
}

impl Transition {
    /// The status it leads to and the statuses it may start from.
    fn rule(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Self::Pay => (PAID, &[PLACED]),
            Self::Fulfil => (FULFILLED, &[PAID]),
            Self::Cancel => (CANCELLED, &[PLACED, PAID]),
            Self::Expire => (EXPIRED, &[PLACED]),
        }
    }
}

/// Who moves an order, for the ledger of a fulfilment.
pub struct Actor<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
}

/// Applies `transition` to order `id` (only `owner`'s when given): `None` when
/// there is no such order (or not theirs), 409 when its status does not allow
/// it. Cancelling and expiring release the reserved stock; fulfilling takes
/// it off on hand and reserved, with a ledger entry per line.
pub fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    owner: Option<&Owner>,
    transition: Transition,
    actor: &Actor<'_>,
) -> Result<Option<OrderView>, ApiError> {
    conn.transaction(|conn| {
        let Some(order) = orders::table
            .find(id)
            .select(Order::as_select())
            .for_update()
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        if owner.is_some_and(|o| o.issuer != order.owner_issuer || o.subject != order.owner_subject)
        {
            return Ok(None);
        }
        let (to, from) = transition.rule();
        if !from.contains(&order.status.as_str()) {
            return Err(errors::invalid_transition(&order.status, to));
        }
        let lines = lines_of(conn, &[id])?;
        let now = Utc::now().trunc_subsecs(6);
        match transition {
            Transition::Pay => {}
            Transition::Cancel | Transition::Expire => {
                lock_variants(conn, lines.iter().map(|l| l.variant_id))?;
                for line in &lines {
                    reserve(conn, line.variant_id, -line.quantity)?;
                }
            }
            Transition::Fulfil => {
                let locked = lock_variants(conn, lines.iter().map(|l| l.variant_id))?;
                for line in &lines {
                    let Some(current) = locked.get(&line.variant_id) else {
                        return Err(ApiError::internal("an order's variant is gone"));
                    };
                    let (on_hand, reserved) = (
                        current.variant.on_hand - line.quantity,
                        current.variant.reserved - line.quantity,
                    );
                    diesel::update(variants::table.find(line.variant_id))
                        .set((
                            variants::on_hand.eq(on_hand),
                            variants::reserved.eq(reserved),
                            variants::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    diesel::insert_into(inventory_ledger::table)
                        .values((
                            inventory_ledger::id.eq(Uuid::now_v7()),
                            inventory_ledger::variant_id.eq(line.variant_id),
                            inventory_ledger::delta.eq(-line.quantity),
                            inventory_ledger::reason.eq(format!("order {id} fulfilled")),
                            inventory_ledger::on_hand_after.eq(on_hand),
                            inventory_ledger::reserved_after.eq(reserved),
                            inventory_ledger::actor_issuer.eq(actor.issuer),
                            inventory_ledger::actor_subject.eq(actor.subject),
                        ))
                        .execute(conn)?;
                }
            }
        }
        let update = diesel::update(orders::table.find(id));
        let order: Order = match transition {
            Transition::Pay => update
                .set((
                    orders::status.eq(to),
                    orders::paid_at.eq(now),
                    orders::updated_at.eq(now),
                ))
                .returning(Order::as_returning())
                .get_result(conn)?,
            Transition::Fulfil => update
                .set((
                    orders::status.eq(to),
                    orders::fulfilled_at.eq(now),
                    orders::updated_at.eq(now),
                ))
                .returning(Order::as_returning())
                .get_result(conn)?,
            Transition::Cancel | Transition::Expire => update
                .set((
                    orders::status.eq(to),
                    orders::closed_at.eq(now),
                    orders::updated_at.eq(now),
                ))
                .returning(Order::as_returning())
                .get_result(conn)?,
        };
        Ok(Some(OrderView { order, lines }))
    })
}

/// Orders still placed past their payment deadline, oldest first: ids to
/// expire (each in a transaction of its own, so a sweep never holds many).
pub fn overdue(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<Uuid>> {
    orders::table
        .filter(orders::status.eq(PLACED))
        .filter(orders::expires_at.lt(Utc::now()))
        .order(orders::expires_at)
        .limit(limit)
        .select(orders::id)
        .load(conn)
}

/// Whether any order names a variant of product `id` (it is archived then,
/// not deleted).
pub fn product_is_ordered(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        order_lines::table.filter(order_lines::product_id.eq(id)),
    ))
    .get_result(conn)
}

/// Whether any order names variant `id`.
pub fn variant_is_ordered(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        order_lines::table.filter(order_lines::variant_id.eq(id)),
    ))
    .get_result(conn)
}
