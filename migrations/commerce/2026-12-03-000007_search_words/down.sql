DROP TRIGGER IF EXISTS products_title_words ON products;
DROP FUNCTION IF EXISTS commerce_products_title_words();
DROP FUNCTION IF EXISTS commerce_title_words(TEXT);
DROP TABLE IF EXISTS search_words;
