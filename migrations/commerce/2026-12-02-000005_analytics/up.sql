-- First-party analytics. Events are append-only raw rows; the rollup job
-- recomputes whole (product, hour) and (query, hour) cells of the hourly
-- tables from them (and from orders), so a run is idempotent and a late change
-- (an order cancelled after its hour was rolled up) is picked up by
-- recomputing the cells it touches.
CREATE TABLE analytics_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('product_view', 'add_to_cart', 'search', 'zero_result')),
    product_id UUID REFERENCES products (id) ON DELETE CASCADE,
    -- NULL only for zero_result, which the search route records itself.
    session_id TEXT CHECK (char_length(session_id) BETWEEN 1 AND 100),
    -- Normalised: trimmed, lower-cased, white space collapsed.
    query TEXT CHECK (char_length(query) BETWEEN 1 AND 200),
    -- A product view that the 30-minute window let through; duplicates are
    -- kept (append-only) but not counted.
    counted BOOLEAN NOT NULL DEFAULT true,
    occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The inserting transaction: the rollup's watermark. Every transaction
    -- below the oldest one still running has committed or aborted, so nothing
    -- can appear below the watermark later (ids and times can: they are taken
    -- before commit).
    xact XID8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((kind IN ('product_view', 'add_to_cart')) = (product_id IS NOT NULL)),
    CHECK ((kind IN ('search', 'zero_result')) = (query IS NOT NULL)),
    CHECK ((kind = 'zero_result') = (session_id IS NULL))
);
CREATE INDEX analytics_events_xact_idx ON analytics_events (xact);
CREATE INDEX analytics_events_product_idx ON analytics_events (product_id, occurred_at)
    WHERE product_id IS NOT NULL;
CREATE INDEX analytics_events_query_idx ON analytics_events (query, occurred_at)
    WHERE query IS NOT NULL;

-- The last counted view of each (session, product): a view counts when there
-- is none or it is 30 minutes old, decided by one upsert (race-free: the row
-- lock serialises concurrent batches). Rows past the window are swept.
CREATE TABLE analytics_view_dedupe (
    session_id TEXT NOT NULL,
    product_id UUID NOT NULL,
    counted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, product_id)
);
CREATE INDEX analytics_view_dedupe_counted_idx ON analytics_view_dedupe (counted_at);

-- The shape is shared with product search (sort=popular reads it).
CREATE TABLE analytics_hourly (
    product_id UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    hour TIMESTAMPTZ NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    sessions BIGINT NOT NULL DEFAULT 0,
    add_to_cart BIGINT NOT NULL DEFAULT 0,
    orders BIGINT NOT NULL DEFAULT 0,
    units BIGINT NOT NULL DEFAULT 0,
    revenue_minor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (product_id, hour)
);
-- Top products over a range of hours.
CREATE INDEX analytics_hourly_hour_idx ON analytics_hourly (hour, product_id);

CREATE TABLE search_hourly (
    query TEXT NOT NULL,
    hour TIMESTAMPTZ NOT NULL,
    searches BIGINT NOT NULL DEFAULT 0,
    zero_results BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (query, hour)
);
CREATE INDEX search_hourly_hour_idx ON search_hourly (hour);

-- Where the rollup job stopped (one row).
CREATE TABLE analytics_rollup_state (
    id INT PRIMARY KEY CHECK (id = 1),
    -- Events of transactions at or above this are looked at again.
    events_xact XID8 NOT NULL,
    -- Orders updated since (minus a margin for clock skew and commit lag).
    orders_since TIMESTAMPTZ NOT NULL
);
INSERT INTO analytics_rollup_state (id, events_xact, orders_since)
VALUES (1, '0'::xid8, '-infinity');
