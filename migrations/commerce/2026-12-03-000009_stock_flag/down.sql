CREATE OR REPLACE FUNCTION commerce_refresh_all_product_facets() RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET price_min = v.lo, price_max = v.hi
    FROM (SELECT product_id, min(price_minor) AS lo, max(price_minor) AS hi FROM variants GROUP BY product_id) v
    WHERE v.product_id = p.id;
    UPDATE products p SET category_ids = c.ids
    FROM (SELECT product_id, array_agg(category_id ORDER BY position, category_id) AS ids
          FROM product_categories GROUP BY product_id) c
    WHERE c.product_id = p.id;
$$;
DROP TRIGGER IF EXISTS variants_product_stock ON variants;
DROP FUNCTION IF EXISTS commerce_variants_stock();
DROP FUNCTION IF EXISTS commerce_refresh_product_stock(UUID);
DROP TABLE IF EXISTS product_stock_changes;
ALTER TABLE products DROP COLUMN IF EXISTS in_stock;
ALTER TABLE products RESET (fillfactor);
