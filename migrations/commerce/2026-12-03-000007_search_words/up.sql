-- Typo tolerance by vocabulary: the distinct words of product titles, kept by
-- a trigger. A search looks up, for each word of the query, the title words
-- most like it by trigrams (a small table, one index probe per word) and
-- matches them through the full-text index, as the pg_trgm documentation
-- suggests for spelling alternatives, instead of comparing the query with
-- every candidate title. Words are never removed: one no title holds any
-- more matches nothing.
CREATE TABLE search_words (
    word TEXT PRIMARY KEY
);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- The words of a title worth a typo alternative: the `simple` parser's
-- lower-cased tokens (whatever SHOP_SEARCH_LANGUAGE is), 3-64 characters, not
-- numbers.
CREATE FUNCTION commerce_title_words(title TEXT)
RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lexeme FROM unnest(to_tsvector('simple'::regconfig, coalesce(title, '')))
    WHERE char_length(lexeme) BETWEEN 3 AND 64 AND lexeme !~ '^[0-9.,+-]+$'
$$;

CREATE FUNCTION commerce_products_title_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In word order: two writers adding the same new words wait for each
    -- other instead of deadlocking.
    INSERT INTO search_words (word)
    SELECT DISTINCT w FROM commerce_title_words(NEW.title) AS w ORDER BY w
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER products_title_words
    AFTER INSERT OR UPDATE OF title ON products
    FOR EACH ROW EXECUTE FUNCTION commerce_products_title_words();

INSERT INTO search_words (word)
SELECT DISTINCT w FROM products, commerce_title_words(products.title) AS w ORDER BY w
ON CONFLICT DO NOTHING;
