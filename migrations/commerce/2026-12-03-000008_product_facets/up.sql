-- What search facets read of every matching product, kept on the product's
-- row by triggers so a facet over thousands of matches reads no other table:
-- the lowest and highest variant price, and the product's categories.
--
-- Locks: the triggers update the product's row after a variant's price or a
-- category link changes. Every catalog write has locked that row first
-- (crate::db::products::lock, FOR NO KEY UPDATE), and reassigning a category's products locks
-- them in id order first, so no new lock order appears. Orders change only a
-- variant's stock, which fires nothing here.
ALTER TABLE products
    ADD COLUMN price_min BIGINT,
    ADD COLUMN price_max BIGINT,
    ADD COLUMN category_ids UUID[] NOT NULL DEFAULT '{}';

CREATE FUNCTION commerce_refresh_product_prices(pid UUID) RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET price_min = v.lo, price_max = v.hi
    FROM (SELECT min(price_minor) AS lo, max(price_minor) AS hi FROM variants WHERE product_id = pid) v
    WHERE p.id = pid AND (p.price_min IS DISTINCT FROM v.lo OR p.price_max IS DISTINCT FROM v.hi)
$$;

CREATE FUNCTION commerce_refresh_product_categories(pid UUID) RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET category_ids = c.ids
    FROM (SELECT coalesce(array_agg(category_id ORDER BY position, category_id), '{}') AS ids
          FROM product_categories WHERE product_id = pid) c
    WHERE p.id = pid AND p.category_ids IS DISTINCT FROM c.ids
$$;

CREATE FUNCTION commerce_variants_prices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM commerce_refresh_product_prices(OLD.product_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.product_id <> OLD.product_id) THEN
        PERFORM commerce_refresh_product_prices(NEW.product_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER variants_product_prices
    AFTER INSERT OR DELETE OR UPDATE OF price_minor, product_id ON variants
    FOR EACH ROW EXECUTE FUNCTION commerce_variants_prices();

CREATE FUNCTION commerce_product_categories_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM commerce_refresh_product_categories(OLD.product_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.product_id <> OLD.product_id) THEN
        PERFORM commerce_refresh_product_categories(NEW.product_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER product_categories_ids
    AFTER INSERT OR DELETE OR UPDATE ON product_categories
    FOR EACH ROW EXECUTE FUNCTION commerce_product_categories_ids();

-- Every product's facts at once (here, and after a bulk load with the
-- triggers off: deploy/bench/commerce.sh).
CREATE FUNCTION commerce_refresh_all_product_facets() RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET price_min = v.lo, price_max = v.hi
    FROM (SELECT product_id, min(price_minor) AS lo, max(price_minor) AS hi FROM variants GROUP BY product_id) v
    WHERE v.product_id = p.id;
    UPDATE products p SET category_ids = c.ids
    FROM (SELECT product_id, array_agg(category_id ORDER BY position, category_id) AS ids
          FROM product_categories GROUP BY product_id) c
    WHERE c.product_id = p.id;
$$;

SELECT commerce_refresh_all_product_facets();
