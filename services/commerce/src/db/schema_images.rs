// Diesel tables of images (written by hand; the migrations are the truth).

diesel::table! {
    product_images (id) {
        id -> Uuid,
        product_id -> Uuid,
        position -> Int4,
        content_type -> Text,
        thumbnail_type -> Text,
        width -> Int4,
        height -> Int4,
        byte_size -> Int8,
        digest -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(product_images -> products (product_id));

use super::schema::products;

diesel::allow_tables_to_appear_in_same_query!(product_images, products);
