-- Product search: a weighted full-text vector and the attribute pairs of each
-- product, kept by a trigger (a generated column cannot read the configured
-- language), trigram matching of titles for typos.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text-search configuration the vectors were built with (one row). The
-- service stores SHOP_SEARCH_LANGUAGE here at start and rebuilds every vector
-- when it changed (crate::routes::search::prepare).
CREATE TABLE search_settings (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    language REGCONFIG NOT NULL DEFAULT 'english'
);
INSERT INTO search_settings DEFAULT VALUES;

-- Title 'A', attribute values (strings and arrays of strings) 'B',
-- description 'C'.
CREATE FUNCTION commerce_product_vector(cfg REGCONFIG, title TEXT, description TEXT, attributes JSONB)
RETURNS TSVECTOR LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(cfg, coalesce(title, '')), 'A')
        || setweight(to_tsvector(cfg, coalesce((
            SELECT string_agg(v, ' ')
            FROM jsonb_each(attributes) AS a(name, value),
                 LATERAL (
                     SELECT a.value #>> '{}' AS v WHERE jsonb_typeof(a.value) = 'string'
                     UNION ALL
                     SELECT e FROM jsonb_array_elements_text(
                         CASE WHEN jsonb_typeof(a.value) = 'array' THEN a.value ELSE '[]'::jsonb END) AS e
                 ) AS vals
        ), '')), 'B')
        || setweight(to_tsvector(cfg, coalesce(description, '')), 'C')
$$;

-- "name<US>value" for every value of every attribute (array items one by
-- one, numbers and booleans as their JSON text): what attribute filters and
-- facets read. Attribute names cannot hold control characters.
CREATE FUNCTION commerce_attribute_pairs(attributes JSONB)
RETURNS TEXT[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT a.name || chr(31) || v), '{}')
    FROM jsonb_each(attributes) AS a(name, value),
         LATERAL (
             SELECT a.value #>> '{}' AS v WHERE jsonb_typeof(a.value) IN ('string', 'number', 'boolean')
             UNION ALL
             SELECT e FROM jsonb_array_elements_text(
                 CASE WHEN jsonb_typeof(a.value) = 'array' THEN a.value ELSE '[]'::jsonb END) AS e
         ) AS vals
$$;

ALTER TABLE products
    ADD COLUMN search_vector TSVECTOR NOT NULL DEFAULT ''::tsvector,
    ADD COLUMN attribute_pairs TEXT[] NOT NULL DEFAULT '{}';

CREATE FUNCTION commerce_products_search_fields() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := commerce_product_vector(
        (SELECT language FROM search_settings), NEW.title, NEW.description, NEW.attributes);
    NEW.attribute_pairs := commerce_attribute_pairs(NEW.attributes);
    RETURN NEW;
END
$$;

CREATE TRIGGER products_search_fields
    BEFORE INSERT OR UPDATE OF title, description, attributes ON products
    FOR EACH ROW EXECUTE FUNCTION commerce_products_search_fields();

UPDATE products SET
    search_vector = commerce_product_vector('english', title, description, attributes),
    attribute_pairs = commerce_attribute_pairs(attributes);

-- Only active products are ever searched.
CREATE INDEX products_search_vector_idx ON products USING gin (search_vector) WHERE status = 'active';
CREATE INDEX products_title_trgm_idx ON products USING gin (title gin_trgm_ops) WHERE status = 'active';
CREATE INDEX products_attribute_pairs_idx ON products USING gin (attribute_pairs) WHERE status = 'active';
