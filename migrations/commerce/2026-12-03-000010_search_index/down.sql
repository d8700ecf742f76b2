DROP INDEX IF EXISTS products_search_idx;
CREATE INDEX products_search_vector_idx ON products USING gin (search_vector) WHERE status = 'active';
CREATE INDEX products_attribute_pairs_idx ON products USING gin (attribute_pairs) WHERE status = 'active';
