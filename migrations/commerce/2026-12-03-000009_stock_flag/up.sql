-- Whether a product has a variant with stock available, kept on its row so
-- the in-stock facet and filter of a search read no other table (probing the
-- variants of every match was a third of a 4,000-match search).
--
-- Locks: orders change stock under their variants' locks (taken in variant
-- id order) and must not then lock products, or an order and a catalog write
-- (product first, then its variants) could wait on each other. So a flip of a
-- variant between "some available" and "none" only appends the product to
-- product_stock_changes, and a background task of the service
-- (crate::db::stock::apply_changes) takes the queue, locks those
-- products in id order and sets their flag: the facet follows orders within
-- STOCK_FLAG_REFRESH_MS. Catalog and inventory writes, which hold the
-- product's lock already, set it at once (commerce_refresh_product_stock).
ALTER TABLE products ADD COLUMN in_stock BOOLEAN NOT NULL DEFAULT false;
-- Room on each page for a flag's new row version beside the old one, so the
-- update stays HOT (no new entry in the search index) as often as it can.
ALTER TABLE products SET (fillfactor = 90);

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

-- Every product's facts at once, resetting those without variants or
-- categories too: after a bulk load with the triggers off
-- (deploy/bench/commerce.sh). Offline only: it updates every product in
-- physical order, which live writers (locking products in id order) could
-- deadlock with.
CREATE OR REPLACE FUNCTION commerce_refresh_all_product_facets() RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET price_min = f.lo, price_max = f.hi, in_stock = f.stock
    FROM (SELECT p.id, min(v.price_minor) AS lo, max(v.price_minor) AS hi,
                 coalesce(bool_or(v.on_hand > v.reserved), false) AS stock
          FROM products p LEFT JOIN variants v ON v.product_id = p.id GROUP BY p.id) f
    WHERE f.id = p.id;
    UPDATE products p SET category_ids = c.ids
    FROM (SELECT p.id, coalesce(array_agg(pc.category_id ORDER BY pc.position, pc.category_id)
                                    FILTER (WHERE pc.category_id IS NOT NULL), '{}') AS ids
          FROM products p LEFT JOIN product_categories pc ON pc.product_id = p.id GROUP BY p.id) c
    WHERE c.id = p.id;
$$;

UPDATE products p SET in_stock = true
WHERE EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.on_hand > v.reserved);
