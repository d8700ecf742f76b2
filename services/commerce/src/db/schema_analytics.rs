// Diesel tables of analytics (written by hand; the migrations are the truth).
// `analytics_events.xact` (XID8, no diesel type) is left out: only SQL reads it.

diesel::table! {
    analytics_events (id) {
        id -> Int8,
        kind -> Text,
        product_id -> Nullable<Uuid>,
        session_id -> Nullable<Text>,
        query -> Nullable<Text>,
        counted -> Bool,
        occurred_at -> Timestamptz,
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
    search_hourly (query, hour) {
        query -> Text,
        hour -> Timestamptz,
        searches -> Int8,
        zero_results -> Int8,
    }
}

diesel::joinable!(analytics_events -> products (product_id));
diesel::joinable!(analytics_hourly -> products (product_id));

use super::schema::products;

diesel::allow_tables_to_appear_in_same_query!(analytics_events, products);
diesel::allow_tables_to_appear_in_same_query!(analytics_hourly, products);
