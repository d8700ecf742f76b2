DROP INDEX IF EXISTS products_attribute_pairs_idx;
DROP INDEX IF EXISTS products_title_trgm_idx;
DROP INDEX IF EXISTS products_search_vector_idx;
DROP TRIGGER IF EXISTS products_search_fields ON products;
DROP FUNCTION IF EXISTS commerce_products_search_fields();
ALTER TABLE products DROP COLUMN IF EXISTS attribute_pairs, DROP COLUMN IF EXISTS search_vector;
DROP FUNCTION IF EXISTS commerce_attribute_pairs(JSONB);
DROP FUNCTION IF EXISTS commerce_product_vector(REGCONFIG, TEXT, TEXT, JSONB);
DROP TABLE IF EXISTS search_settings;
