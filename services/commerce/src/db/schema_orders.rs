// Diesel tables of carts and orders (written by hand after migration 000004).

diesel::table! {
    cart_items (owner_issuer, owner_subject, variant_id) {
        owner_issuer -> Text,
        owner_subject -> Text,
        variant_id -> Uuid,
        quantity -> Int8,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        owner_issuer -> Text,
        owner_subject -> Text,
        status -> Text,
        currency -> Text,
        total_minor -> Int8,
        expires_at -> Timestamptz,
        placed_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        fulfilled_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_lines (order_id, position) {
        order_id -> Uuid,
        position -> Int4,
        variant_id -> Uuid,
        product_id -> Uuid,
        sku -> Text,
        title -> Text,
        quantity -> Int8,
        unit_price_minor -> Int8,
    }
}

diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(order_lines -> variants (variant_id));
diesel::joinable!(cart_items -> variants (variant_id));

use super::schema::{products, variants};

diesel::allow_tables_to_appear_in_same_query!(cart_items, orders, order_lines);
diesel::allow_tables_to_appear_in_same_query!(cart_items, variants);
diesel::allow_tables_to_appear_in_same_query!(cart_items, products);
diesel::allow_tables_to_appear_in_same_query!(orders, variants);
diesel::allow_tables_to_appear_in_same_query!(orders, products);
diesel::allow_tables_to_appear_in_same_query!(order_lines, variants);
diesel::allow_tables_to_appear_in_same_query!(order_lines, products);
