DROP TRIGGER IF EXISTS product_categories_ids ON product_categories;
DROP TRIGGER IF EXISTS variants_product_prices ON variants;
DROP FUNCTION IF EXISTS commerce_refresh_all_product_facets();
DROP FUNCTION IF EXISTS commerce_product_categories_ids();
DROP FUNCTION IF EXISTS commerce_variants_prices();
DROP FUNCTION IF EXISTS commerce_refresh_product_categories(UUID);
DROP FUNCTION IF EXISTS commerce_refresh_product_prices(UUID);
ALTER TABLE products DROP COLUMN IF EXISTS category_ids, DROP COLUMN IF EXISTS price_max, DROP COLUMN IF EXISTS price_min;
