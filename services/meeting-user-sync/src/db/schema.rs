// @generated automatically by Diesel CLI.

diesel::table! {
    meetings (id) {
        id -> Uuid,
        title -> Text,
        description -> Nullable<Text>,
        host_issuer -> Text,
        host_subject -> Text,
        join_code -> Text,
        status -> Text,
        scheduled_at -> Nullable<Timestamptz>,
        duration_minutes -> Nullable<Int4>,
        started_at -> Nullable<Timestamptz>,
        ended_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> Uuid,
        meeting_id -> Uuid,
        sender_issuer -> Text,
        sender_subject -> Text,
        text -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    participants (meeting_id, issuer, subject) {
        meeting_id -> Uuid,
        issuer -> Text,
        subject -> Text,
        role -> Text,
        joined_at -> Timestamptz,
        left_at -> Nullable<Timestamptz>,
        removed_at -> Nullable<Timestamptz>,
    }
}

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

diesel::joinable!(messages -> meetings (meeting_id));
diesel::joinable!(participants -> meetings (meeting_id));

diesel::allow_tables_to_appear_in_same_query!(
    meetings,
    messages,
    participants,
    profiles,
    webhook_deliveries,
);
