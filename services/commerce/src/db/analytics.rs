//! Queries of analytics: event ingestion (one multi-row insert per batch after
//! one dedupe upsert), the rollup that recomputes hourly cells from raw rows,
//! and the reports read from the rollups.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamptz};
use diesel::QueryResult;
use uuid::Uuid;

use super::schema::analytics_events;
use super::schema::products;

/// A session's views of a product count once per this many minutes.
pub const VIEW_WINDOW_MINUTES: i32 = 30;
/// The longest search query kept (longer ones are refused at ingestion and cut
/// when the search route records them).
pub const MAX_QUERY_CHARS: usize = 200;
/// Orders updated this long before the previous run are looked at again: the
/// order routes stamp `updated_at` with the application's clock before commit.
const ORDERS_MARGIN: &str = "2 minutes";

/// What a client may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ProductView,
    AddToCart,
    Search,
}

impl Kind {
    pub const ALL: [&'static str; 3] = ["product_view", "add_to_cart", "search"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "product_view" => Some(Self::ProductView),
            "add_to_cart" => Some(Self::AddToCart),
            "search" => Some(Self::Search),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::ProductView => "product_view",
            Self::AddToCart => "add_to_cart",
            Self::Search => "search",
        }
    }
}

/// One validated event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: Kind,
    pub product_id: Option<Uuid>,
    pub session_id: String,
    /// Normalised ([`normalize_query`]).
    pub query: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = analytics_events)]
struct EventRow<'a> {
    kind: &'static str,
    product_id: Option<Uuid>,
    session_id: Option<&'a str>,
    query: Option<&'a str>,
    counted: bool,
}

/// A search query as the reports group it: trimmed, lower-cased, every run of
/// white space one space, control characters dropped, at most
/// [`MAX_QUERY_CHARS`] characters; `None` when nothing is left.
pub fn normalize_query(raw: &str) -> Option<String> {
    let lowered = raw.to_lowercase();
    let collapsed = lowered
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUERY_CHARS)
        .collect::<String>();
    let trimmed = collapsed.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[derive(QueryableByName)]
struct ViewKey {
    #[diesel(sql_type = Text)]
    session_id: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    product_id: Uuid,
}

/// Stores `events` in one transaction and answers how many were stored.
/// Events naming a product that does not exist (any more) are dropped. A
/// product view counts when its session's last counted view of the product is
/// at least [`VIEW_WINDOW_MINUTES`] old: one upsert over the batch's distinct
/// (session, product) pairs, in key order so concurrent batches never
/// deadlock, decides it under the rows' locks.
pub fn ingest(conn: &mut PgConnection, events: &[NewEvent]) -> QueryResult<usize> {
    conn.transaction(|conn| {
        let named: Vec<Uuid> = events
            .iter()
            .filter_map(|e| e.product_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let existing: HashSet<Uuid> = if named.is_empty() {
            HashSet::new()
        } else {
            products::table
                .filter(products::id.eq_any(&named))
                .select(products::id)
                .load::<Uuid>(conn)?
                .into_iter()
                .collect()
        };
        let kept: Vec<&NewEvent> = events
            .iter()
            .filter(|e| e.product_id.is_none_or(|p| existing.contains(&p)))
            .collect();
        let mut keys: Vec<(&str, Uuid)> = kept
            .iter()
            .filter(|e| e.kind == Kind::ProductView)
            .filter_map(|e| e.product_id.map(|p| (e.session_id.as_str(), p)))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        keys.sort_unstable();
        let counted: HashSet<(String, Uuid)> = if keys.is_empty() {
            HashSet::new()
        } else {
            diesel::sql_query(
                "INSERT INTO analytics_view_dedupe (session_id, product_id, counted_at) \
                 SELECT s, p, now() FROM unnest($1::text[], $2::uuid[]) WITH ORDINALITY AS k(s, p, n) ORDER BY n \
                 ON CONFLICT (session_id, product_id) DO UPDATE SET counted_at = EXCLUDED.counted_at \
                 WHERE analytics_view_dedupe.counted_at <= EXCLUDED.counted_at - make_interval(mins => $3) \
                 RETURNING session_id, product_id",
            )
            .bind::<Array<Text>, _>(keys.iter().map(|k| k.0).collect::<Vec<_>>())
            .bind::<Array<diesel::sql_types::Uuid>, _>(keys.iter().map(|k| k.1).collect::<Vec<_>>())
            .bind::<diesel::sql_types::Integer, _>(VIEW_WINDOW_MINUTES)
            .load::<ViewKey>(conn)?
            .into_iter()
            .map(|k| (k.session_id, k.product_id))
            .collect()
        };
        // Only the first view of a pair in the batch can be the counted one.
        let mut spent: HashSet<(&str, Uuid)> = HashSet::new();
        let rows: Vec<EventRow<'_>> = kept
            .iter()
            .map(|e| {
                let counted = match (e.kind, e.product_id) {
                    (Kind::ProductView, Some(p)) => {
                        spent.insert((e.session_id.as_str(), p))
                            && counted.contains(&(e.session_id.clone(), p))
                    }
                    _ => true,
                };
                EventRow {
                    kind: e.kind.as_str(),
                    product_id: e.product_id,
                    session_id: Some(e.session_id.as_str()),
                    query: e.query.as_deref(),
                    counted,
                }
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        diesel::insert_into(analytics_events::table)
            .values(&rows)
            .execute(conn)
    })
}

/// Notes that a search for `query` found nothing, for the searches report
/// (called by the search route; the query is normalised, and nothing is kept
/// for a query that is empty once normalised).
pub fn record_zero_result(conn: &mut PgConnection, query: &str) -> QueryResult<()> {
    let Some(query) = normalize_query(query) else {
        return Ok(());
    };
    diesel::insert_into(analytics_events::table)
        .values(&EventRow {
            kind: "zero_result",
            product_id: None,
            session_id: None,
            query: Some(&query),
            counted: true,
        })
        .execute(conn)
        .map(|_| ())
}

/// What one rollup run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollup {
    /// (product, hour) cells recomputed.
    pub product_cells: usize,
    /// (query, hour) cells recomputed.
    pub search_cells: usize,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = Text)]
    next: String,
}

/// The (product, hour) cells touched by events of transactions at or above the
/// watermark, or by orders updated since the last run, recomputed wholly from
/// the raw rows (so a run is idempotent).
const PRODUCT_CELLS: &str = "
WITH state AS (SELECT events_xact, orders_since FROM analytics_rollup_state WHERE id = 1),
cells AS (
    SELECT e.product_id, date_trunc('hour', e.occurred_at, 'UTC') AS hour
    FROM analytics_events e, state
    WHERE e.xact >= state.events_xact AND e.product_id IS NOT NULL
    UNION
    SELECT l.product_id, date_trunc('hour', o.placed_at, 'UTC')
    FROM orders o JOIN order_lines l ON l.order_id = o.id, state
    WHERE o.updated_at >= state.orders_since - interval 'ORDERS_MARGIN'
),
seen AS (
    SELECT c.product_id, c.hour,
        count(e.id) FILTER (WHERE e.kind = 'product_view' AND e.counted) AS views,
        count(DISTINCT e.session_id) FILTER (WHERE e.kind = 'product_view' AND e.counted) AS sessions,
        count(e.id) FILTER (WHERE e.kind = 'add_to_cart') AS add_to_cart
    FROM cells c
    LEFT JOIN analytics_events e ON e.product_id = c.product_id
        AND e.occurred_at >= c.hour AND e.occurred_at < c.hour + interval '1 hour'
    GROUP BY c.product_id, c.hour
),
sold AS (
    SELECT c.product_id, c.hour,
        count(DISTINCT o.id) AS orders,
        coalesce(sum(l.quantity), 0)::bigint AS units,
        coalesce(sum(l.quantity * l.unit_price_minor), 0)::bigint AS revenue_minor
    FROM cells c
    LEFT JOIN (order_lines l JOIN orders o ON o.id = l.order_id
               AND o.status NOT IN ('cancelled', 'expired'))
        ON l.product_id = c.product_id
        AND o.placed_at >= c.hour AND o.placed_at < c.hour + interval '1 hour'
    GROUP BY c.product_id, c.hour
)
INSERT INTO analytics_hourly (product_id, hour, views, sessions, add_to_cart, orders, units, revenue_minor)
SELECT seen.product_id, seen.hour, seen.views, seen.sessions, seen.add_to_cart,
    sold.orders, sold.units, sold.revenue_minor
FROM seen JOIN sold ON sold.product_id = seen.product_id AND sold.hour = seen.hour
WHERE EXISTS (SELECT 1 FROM products p WHERE p.id = seen.product_id)
ORDER BY 1, 2
ON CONFLICT (product_id, hour) DO UPDATE SET
    views = EXCLUDED.views, sessions = EXCLUDED.sessions, add_to_cart = EXCLUDED.add_to_cart,
    orders = EXCLUDED.orders, units = EXCLUDED.units, revenue_minor = EXCLUDED.revenue_minor";

/// The same for (query, hour) cells of searches.
const SEARCH_CELLS: &str = "
WITH cells AS (
    SELECT DISTINCT e.query, date_trunc('hour', e.occurred_at, 'UTC') AS hour
    FROM analytics_events e
    WHERE e.xact >= (SELECT events_xact FROM analytics_rollup_state WHERE id = 1)
        AND e.query IS NOT NULL
),
counted AS (
    SELECT c.query, c.hour,
        count(e.id) FILTER (WHERE e.kind = 'search') AS searches,
        count(e.id) FILTER (WHERE e.kind = 'zero_result') AS zero_results
    FROM cells c
    JOIN analytics_events e ON e.query = c.query
        AND e.occurred_at >= c.hour AND e.occurred_at < c.hour + interval '1 hour'
    GROUP BY c.query, c.hour
)
INSERT INTO search_hourly (query, hour, searches, zero_results)
SELECT query, hour, searches, zero_results FROM counted ORDER BY 1, 2
ON CONFLICT (query, hour) DO UPDATE SET
    searches = EXCLUDED.searches, zero_results = EXCLUDED.zero_results";

/// One rollup run, in one transaction under a transaction-level advisory lock:
/// `None` when another replica's run holds it (that run does the work).
///
/// The watermark is a transaction id: the oldest transaction still running
/// when the run starts. Events of transactions below it have all committed or
/// aborted, so none can appear there later; events at or above it are looked
/// at again next run (recomputing a cell twice is harmless).
pub fn rollup(conn: &mut PgConnection) -> QueryResult<Option<Rollup>> {
    conn.transaction(|conn| {
        let locked = diesel::sql_query(
            "SELECT pg_try_advisory_xact_lock(hashtext('commerce:analytics-rollup')) AS locked",
        )
        .get_result::<Locked>(conn)?
        .locked;
        if !locked {
            return Ok(None);
        }
        // Taken before the scans, so a scan sees every transaction below it.
        let horizon = diesel::sql_query(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS next",
        )
        .get_result::<Horizon>(conn)?;
        let product_cells =
            diesel::sql_query(PRODUCT_CELLS.replace("ORDERS_MARGIN", ORDERS_MARGIN))
                .execute(conn)?;
        let search_cells = diesel::sql_query(SEARCH_CELLS).execute(conn)?;
        diesel::sql_query(
            "UPDATE analytics_rollup_state SET events_xact = $1::xid8, orders_since = now() WHERE id = 1",
        )
        .bind::<Text, _>(&horizon.next)
        .execute(conn)?;
        diesel::sql_query(
            "DELETE FROM analytics_view_dedupe WHERE counted_at < now() - make_interval(mins => $1)",
        )
        .bind::<diesel::sql_types::Integer, _>(VIEW_WINDOW_MINUTES)
        .execute(conn)?;
        Ok(Some(Rollup {
            product_cells,
            search_cells,
        }))
    })
}

/// The counts of one bucket or one product over a range.
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Counts {
    #[diesel(sql_type = BigInt)]
    pub views: i64,
    #[diesel(sql_type = BigInt)]
    pub sessions: i64,
    #[diesel(sql_type = BigInt)]
    pub add_to_cart: i64,
    #[diesel(sql_type = BigInt)]
    pub orders: i64,
    #[diesel(sql_type = BigInt)]
    pub units: i64,
    #[diesel(sql_type = BigInt)]
    pub revenue_minor: i64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.views = self.views.saturating_add(other.views);
        self.sessions = self.sessions.saturating_add(other.sessions);
        self.add_to_cart = self.add_to_cart.saturating_add(other.add_to_cart);
        self.orders = self.orders.saturating_add(other.orders);
        self.units = self.units.saturating_add(other.units);
        self.revenue_minor = self.revenue_minor.saturating_add(other.revenue_minor);
    }
}

const SUMS: &str = "coalesce(sum(h.views), 0)::bigint AS views, \
    coalesce(sum(h.sessions), 0)::bigint AS sessions, \
    coalesce(sum(h.add_to_cart), 0)::bigint AS add_to_cart, \
    coalesce(sum(h.orders), 0)::bigint AS orders, \
    coalesce(sum(h.units), 0)::bigint AS units, \
    coalesce(sum(h.revenue_minor), 0)::bigint AS revenue_minor";

#[derive(Debug, Clone, QueryableByName)]
pub struct Bucket {
    #[diesel(sql_type = Timestamptz)]
    pub start: DateTime<Utc>,
    #[diesel(embed)]
    pub counts: Counts,
}

/// Whether the product exists.
pub fn product_exists(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    products::table
        .find(id)
        .select(products::id)
        .first::<Uuid>(conn)
        .optional()
        .map(|found| found.is_some())
}

/// A product's buckets of `hour` or `day` (UTC) from `from` (rounded down to
/// its hour, the first bucket to its day) to `to`, every bucket listed, empty
/// ones as zeros. A day is the sum of its hours.
pub fn product_buckets(
    conn: &mut PgConnection,
    product_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    daily: bool,
) -> QueryResult<Vec<Bucket>> {
    let (unit, step) = if daily {
        ("day", "24 hours")
    } else {
        ("hour", "1 hour")
    };
    diesel::sql_query(format!(
        "SELECT b.start, {SUMS} \
         FROM generate_series(date_trunc('{unit}', $2, 'UTC'), $3 - interval '1 microsecond', interval '{step}') AS b(start) \
         LEFT JOIN analytics_hourly h ON h.product_id = $1 \
             AND h.hour >= b.start AND h.hour < b.start + interval '{step}' \
             AND h.hour >= date_trunc('hour', $2, 'UTC') AND h.hour < $3 \
         GROUP BY b.start ORDER BY b.start"
    ))
    .bind::<diesel::sql_types::Uuid, _>(product_id)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
}

/// What top products are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Views,
    Orders,
    Revenue,
}

impl Metric {
    pub const ALL: [&'static str; 3] = ["views", "orders", "revenue"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "views" => Some(Self::Views),
            "orders" => Some(Self::Orders),
            "revenue" => Some(Self::Revenue),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Views => "views",
            Self::Orders => "orders",
            Self::Revenue => "revenue",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Views => "views",
            Self::Orders => "orders",
            Self::Revenue => "revenue_minor",
        }
    }
}

#[derive(Debug, Clone, QueryableByName)]
pub struct Ranked {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub product_id: Uuid,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(embed)]
    pub counts: Counts,
}

/// The `limit` products with the most of `metric` over the hours from `from`
/// (rounded down to its hour) to `to`; products with none are left out.
pub fn top_products(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    metric: Metric,
    limit: i64,
) -> QueryResult<Vec<Ranked>> {
    let column = metric.column();
    diesel::sql_query(format!(
        "SELECT h.product_id, p.slug, p.title, {SUMS} \
         FROM analytics_hourly h JOIN products p ON p.id = h.product_id \
         WHERE h.hour >= date_trunc('hour', $1, 'UTC') AND h.hour < $2 \
         GROUP BY h.product_id, p.slug, p.title \
         HAVING sum(h.{column}) > 0 \
         ORDER BY {column} DESC, h.product_id LIMIT $3"
    ))
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct QueryCounts {
    #[diesel(sql_type = Text)]
    pub query: String,
    #[diesel(sql_type = BigInt)]
    pub searches: i64,
    #[diesel(sql_type = BigInt)]
    pub zero_results: i64,
}

/// The `limit` most frequent queries over the range, and the `limit` queries
/// that most often found nothing.
pub fn searches(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> QueryResult<(Vec<QueryCounts>, Vec<QueryCounts>)> {
    let mut ranked = |column: &str| -> QueryResult<Vec<QueryCounts>> {
        diesel::sql_query(format!(
            "SELECT query, sum(searches)::bigint AS searches, sum(zero_results)::bigint AS zero_results \
             FROM search_hourly WHERE hour >= date_trunc('hour', $1, 'UTC') AND hour < $2 \
             GROUP BY query HAVING sum({column}) > 0 \
             ORDER BY {column} DESC, query LIMIT $3"
        ))
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<BigInt, _>(limit)
        .load(conn)
    };
    let top = ranked("searches")?;
    let zero = ranked("zero_results")?;
    Ok((top, zero))
}
