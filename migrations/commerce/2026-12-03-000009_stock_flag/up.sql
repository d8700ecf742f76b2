-- Whether a product has a variant with stock available, kept on its row so
-- the in-stock facet and filter of a search read no other table (probing the
-- variants of every match was a third of a 4,000-match search).
--
-- Locks: orders change stock under their variants' locks (taken in variant
-- id order) and must not then lock products, or an order and a catalog write
-- (product first, then its variants) could wait on each other. So a flip of a
-- variant between "some available" and "none" only appends the product to
-- product_stock_changes, and a background task of the service
-- (crate::db::products::apply_stock_changes) takes the queue, locks those
-- products in id order and sets their flag: the facet follows orders within
-- STOCK_FLAG_REFRESH_MS. Catalog and inventory writes, which hold the
-- product's lock already, set it at once (commerce_refresh_product_stock).
ALTER TABLE products ADD COLUMN in_stock BOOLEAN NOT NULL DEFAULT false;

-- No foreign key: a key check would take a share lock on the product.
CREATE TABLE product_stock_changes (
    id BIGSERIAL PRIMARY KEY,
    product_id UUID NOT NULL
);

CREATE FUNCTION commerce_refresh_product_stock(pid UUID) RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET in_stock = s.yes
    FROM (SELECT EXISTS (SELECT 1 FROM variants WHERE product_id = pid AND on_hand > reserved) AS yes) s
    WHERE p.id = pid AND p.in_stock <> s.yes
$$;

CREATE FUNCTION commerce_variants_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.on_hand > NEW.reserved THEN
            INSERT INTO product_stock_changes (product_id) VALUES (NEW.product_id);
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.on_hand > OLD.reserved THEN
            INSERT INTO product_stock_changes (product_id) VALUES (OLD.product_id);
        END IF;
    ELSIF NEW.product_id <> OLD.product_id THEN
        INSERT INTO product_stock_changes (product_id) VALUES (OLD.product_id), (NEW.product_id);
    ELSIF (NEW.on_hand > NEW.reserved) <> (OLD.on_hand > OLD.reserved) THEN
        INSERT INTO product_stock_changes (product_id) VALUES (NEW.product_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER variants_product_stock
    AFTER INSERT OR DELETE OR UPDATE OF on_hand, reserved, product_id ON variants
    FOR EACH ROW EXECUTE FUNCTION commerce_variants_stock();

CREATE OR REPLACE FUNCTION commerce_refresh_all_product_facets() RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET price_min = v.lo, price_max = v.hi, in_stock = v.stock
    FROM (SELECT product_id, min(price_minor) AS lo, max(price_minor) AS hi,
                 bool_or(on_hand > reserved) AS stock
          FROM variants GROUP BY product_id) v
    WHERE v.product_id = p.id;
    UPDATE products p SET category_ids = c.ids
    FROM (SELECT product_id, array_agg(category_id ORDER BY position, category_id) AS ids
          FROM product_categories GROUP BY product_id) c
    WHERE c.product_id = p.id;
$$;

UPDATE products p SET in_stock = true
WHERE EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.on_hand > v.reserved);
