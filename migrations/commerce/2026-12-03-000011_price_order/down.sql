DROP INDEX IF EXISTS products_price_desc_idx;
DROP INDEX IF EXISTS products_price_idx;
