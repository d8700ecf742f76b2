// @generated automatically by Diesel CLI.

diesel::table! {
    categories (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        parent_id -> Nullable<Uuid>,
        position -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    inventory_ledger (id) {
        id -> Uuid,
        variant_id -> Uuid,
        delta -> Int8,
        reason -> Text,
        on_hand_after -> Int8,
        reserved_after -> Int8,
        actor_issuer -> Text,
        actor_subject -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    product_categories (product_id, category_id) {
        product_id -> Uuid,
        category_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    products (id) {
        id -> Uuid,
        slug -> Text,
        title -> Text,
        description -> Nullable<Text>,
        status -> Text,
        attributes -> Jsonb,
        options -> Jsonb,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    variants (id) {
        id -> Uuid,
        product_id -> Uuid,
        sku -> Text,
        title -> Nullable<Text>,
        option_values -> Jsonb,
        price_minor -> Int8,
        compare_at_price_minor -> Nullable<Int8>,
        on_hand -> Int8,
        reserved -> Int8,
        position -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(inventory_ledger -> variants (variant_id));
diesel::joinable!(product_categories -> categories (category_id));
diesel::joinable!(product_categories -> products (product_id));
diesel::joinable!(variants -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(
    categories,
    inventory_ledger,
    product_categories,
    products,
    variants,
);
