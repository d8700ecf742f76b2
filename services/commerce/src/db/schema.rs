// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "regconfig", schema = "pg_catalog"))]
    pub struct Regconfig;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;

    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "xid8", schema = "pg_catalog"))]
    pub struct Xid8;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    analytics_events (id) {
        id -> Int8,
        kind -> Text,
        product_id -> Nullable<Uuid>,
        session_id -> Nullable<Text>,
        query -> Nullable<Text>,
        counted -> Bool,
        occurred_at -> Timestamptz,
        xact -> Xid8,
    }
}

diesel::table! {
    analytics_hourly (product_id, hour) {
        product_id -> Uuid,
        hour -> Timestamptz,
        views -> Int8,
        sessions -> Int8,
        add_to_cart -> Int8,
        orders -> Int8,
        units -> Int8,
        revenue_minor -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Xid8;

    analytics_rollup_state (id) {
        id -> Int4,
        events_xact -> Xid8,
        orders_since -> Timestamptz,
    }
}

diesel::table! {
    analytics_view_dedupe (session_id, product_id) {
        session_id -> Text,
        product_id -> Uuid,
        counted_at -> Timestamptz,
    }
}

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
    idempotency_keys (owner, key) {
        owner -> Text,
        key -> Text,
        fingerprint -> Text,
        state -> Text,
        status -> Nullable<Int4>,
        body -> Nullable<Bytea>,
        resource -> Nullable<Text>,
        created_at -> Timestamptz,
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
    product_categories (product_id, category_id) {
        product_id -> Uuid,
        category_id -> Uuid,
        position -> Int4,
    }
}

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

diesel::table! {
    product_stock_changes (id) {
        id -> Int8,
        product_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

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
        search_vector -> Tsvector,
        attribute_pairs -> Array<Nullable<Text>>,
        price_min -> Nullable<Int8>,
        price_max -> Nullable<Int8>,
        category_ids -> Array<Nullable<Uuid>>,
        in_stock -> Bool,
        facet_rev -> Int8,
    }
}

diesel::table! {
    search_hourly (query, hour) {
        query -> Text,
        hour -> Timestamptz,
        searches -> Int8,
        zero_results -> Int8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Regconfig;

    search_settings (singleton) {
        singleton -> Bool,
        language -> Regconfig,
    }
}

diesel::table! {
    search_words (word) {
        word -> Text,
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

diesel::joinable!(analytics_events -> products (product_id));
diesel::joinable!(analytics_hourly -> products (product_id));
diesel::joinable!(cart_items -> variants (variant_id));
diesel::joinable!(inventory_ledger -> variants (variant_id));
diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(order_lines -> products (product_id));
diesel::joinable!(order_lines -> variants (variant_id));
diesel::joinable!(product_categories -> categories (category_id));
diesel::joinable!(product_categories -> products (product_id));
diesel::joinable!(product_images -> products (product_id));
diesel::joinable!(variants -> products (product_id));

diesel::allow_tables_to_appear_in_same_query!(
    analytics_events,
    analytics_hourly,
    analytics_rollup_state,
    analytics_view_dedupe,
    cart_items,
    categories,
    idempotency_keys,
    inventory_ledger,
    order_lines,
    orders,
    product_categories,
    product_images,
    product_stock_changes,
    products,
    search_hourly,
    search_settings,
    search_words,
    variants,
);
