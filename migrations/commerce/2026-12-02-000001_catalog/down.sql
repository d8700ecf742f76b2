DROP TABLE variants;
DROP TABLE product_categories;
DROP TABLE products;
DROP TABLE categories;
