-- A revision of what a product's row gives the facets of a search (its
-- attribute pairs and its categories). Each replica keeps those of the
-- products it has counted (crate::facet_index) and uses them while the
-- revision is the one the search read; any change to either takes a new one.
CREATE SEQUENCE product_facet_rev;

ALTER TABLE products ADD COLUMN facet_rev BIGINT NOT NULL DEFAULT nextval('product_facet_rev');

CREATE FUNCTION commerce_facet_rev() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.attribute_pairs IS DISTINCT FROM OLD.attribute_pairs
       OR NEW.category_ids IS DISTINCT FROM OLD.category_ids THEN
        NEW.facet_rev := nextval('product_facet_rev');
    END IF;
    RETURN NEW;
END $$;

-- BEFORE triggers fire in the order of their names: this one after
-- products_search_fields, which derives attribute_pairs.
CREATE TRIGGER products_zz_facet_rev BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION commerce_facet_rev();
