-- One GIN index over everything search matches and filters on with
-- arrays: the words, the attribute pairs and the categories (kept on the row
-- by 000008). A multicolumn GIN index serves a condition on any of its columns
-- as well as an index of that column alone, and intersects several in one
-- scan: "headphones, brand Acme or Globex, black" reads the ~100 rows that
-- match them all, where the two indexes it replaces gave the planner one
-- (the 1,700 black Acme or Globex products, each then checked for the word).
DROP INDEX IF EXISTS products_search_vector_idx;
DROP INDEX IF EXISTS products_attribute_pairs_idx;
CREATE INDEX products_search_idx ON products USING gin (search_vector, attribute_pairs, category_ids)
    WHERE status = 'active';
