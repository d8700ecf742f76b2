// @generated automatically by Diesel CLI.

diesel::table! {
    profiles (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        name -> Nullable<Text>,
        name_source -> Text,
        image_url -> Nullable<Text>,
        bio -> Nullable<Text>,
        preferences -> Jsonb,
        source_version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (svix_id) {
        svix_id -> Text,
        event_type -> Text,
        received_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(profiles, webhook_deliveries,);
