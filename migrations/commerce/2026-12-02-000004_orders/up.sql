-- Carts and orders. A cart is a user's list of variants and quantities, priced
-- when read. An order is placed from a cart or from explicit lines: its lines
-- are snapshots (SKU, title, unit price) and its quantities are reserved on
-- the variants (variants.reserved) until it is fulfilled (taken off on_hand and
-- reserved), cancelled or expired (released). Placement locks the variants in
-- id order, so two orders over the same variants never deadlock.
CREATE TABLE cart_items (
    owner_issuer TEXT NOT NULL,
    owner_subject TEXT NOT NULL,
    variant_id UUID NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    added_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_issuer, owner_subject, variant_id)
);
CREATE INDEX cart_items_variant_idx ON cart_items (variant_id);

CREATE TABLE orders (
    id UUID PRIMARY KEY,
    owner_issuer TEXT NOT NULL,
    owner_subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('placed', 'paid', 'fulfilled', 'cancelled', 'expired')),
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL CHECK (total_minor >= 0),
    -- Unpaid past this, the sweeper expires it.
    expires_at TIMESTAMPTZ NOT NULL,
    placed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    paid_at TIMESTAMPTZ,
    fulfilled_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A customer's orders, newest first; the admin list by status; the sweeper.
CREATE INDEX orders_owner_idx ON orders (owner_issuer, owner_subject, placed_at DESC, id DESC);
CREATE INDEX orders_status_idx ON orders (status, placed_at DESC, id DESC);
CREATE INDEX orders_expiry_idx ON orders (expires_at) WHERE status = 'placed';

CREATE TABLE order_lines (
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position INT NOT NULL,
    -- RESTRICT: a variant that orders name is kept (its product is archived
    -- instead of deleted).
    variant_id UUID NOT NULL REFERENCES variants (id) ON DELETE RESTRICT,
    product_id UUID NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    sku TEXT NOT NULL,
    title TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, position),
    UNIQUE (order_id, variant_id)
);
CREATE INDEX order_lines_variant_idx ON order_lines (variant_id);
CREATE INDEX order_lines_product_idx ON order_lines (product_id);

-- Answers to requests sent with an Idempotency-Key (common::idempotency): one
-- per caller and key, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status INTEGER,
    body BYTEA,
    resource TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_resource_idx ON idempotency_keys (resource) WHERE resource IS NOT NULL;
