-- The shop's catalog: a category tree, products with flexible attributes and
-- options, and their variants (the unit that has a SKU, a price and stock).

-- A tree: a category's parent is another category, or none for a root. The
-- path of slugs from the root is computed when read, so renaming or moving a
-- category never rewrites its descendants.
CREATE TABLE categories (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    -- RESTRICT: a category with children cannot be deleted (409).
    parent_id UUID REFERENCES categories (id) ON DELETE RESTRICT,
    -- Order among siblings (ties by slug).
    position INTEGER NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT categories_slug_key UNIQUE (slug),
    CHECK (parent_id <> id)
);
CREATE INDEX categories_parent_idx ON categories (parent_id, position, slug);

CREATE TABLE products (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100),
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description TEXT CHECK (char_length(description) <= 10000),
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    -- Strings, numbers, booleans or arrays of strings (crate::domain::Attributes).
    attributes JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
    -- [{name, values}] (crate::domain::ProductOption), in display order.
    options JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(options) = 'array'),
    -- The revision behind the product's ETag: every write to the product, its
    -- variants or its categories adds one, under the product row's lock.
    version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT products_slug_key UNIQUE (slug)
);
CREATE INDEX products_created_idx ON products (created_at DESC, id DESC);

-- A product's categories, in the order its writer gave them.
CREATE TABLE product_categories (
    product_id UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- RESTRICT: deleting a category that still has products is 409, unless
    -- they are reassigned first.
    category_id UUID NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
    position INTEGER NOT NULL,
    PRIMARY KEY (product_id, category_id)
);
CREATE INDEX product_categories_category_idx ON product_categories (category_id);

CREATE TABLE variants (
    id UUID PRIMARY KEY,
    product_id UUID NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku TEXT NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' AND char_length(sku) <= 64),
    -- NULL: made from the option values when read ("M / Red").
    title TEXT CHECK (char_length(title) BETWEEN 1 AND 200),
    -- Option name to value: one value of each of the product's options.
    option_values JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(option_values) = 'object'),
    -- Minor units (cents) of the shop's currency (SHOP_CURRENCY).
    price_minor BIGINT NOT NULL CHECK (price_minor BETWEEN 0 AND 1000000000000),
    compare_at_price_minor BIGINT CHECK (compare_at_price_minor > price_minor AND compare_at_price_minor <= 1000000000000),
    -- Stock: available = on_hand - reserved. Reservations are units held by
    -- open orders; no change may leave fewer on hand than reserved.
    on_hand BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT variants_stock_check CHECK (on_hand >= reserved AND reserved >= 0),
    -- No two variants of a product share a combination (jsonb equality ignores
    -- key order).
    CONSTRAINT variants_combination_key UNIQUE (product_id, option_values)
);
-- SKUs are unique whatever their case: "TEE-M" and "tee-m" are one SKU.
CREATE UNIQUE INDEX variants_sku_key ON variants (lower(sku));
CREATE INDEX variants_product_idx ON variants (product_id, position, id);
