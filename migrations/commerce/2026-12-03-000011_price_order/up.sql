-- Browsing by price (`sort=price` / `-price` without a query) reads the
-- first page in index order instead of sorting every active product.
CREATE INDEX products_price_idx ON products (price_min ASC NULLS LAST, created_at DESC, id DESC)
    WHERE status = 'active';
CREATE INDEX products_price_desc_idx ON products (price_min DESC NULLS LAST, created_at DESC, id DESC)
    WHERE status = 'active';
