DROP TRIGGER IF EXISTS products_zz_facet_rev ON products;
DROP FUNCTION IF EXISTS commerce_facet_rev();
ALTER TABLE products DROP COLUMN IF EXISTS facet_rev;
DROP SEQUENCE IF EXISTS product_facet_rev;
