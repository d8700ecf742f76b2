// @generated automatically by Diesel CLI.

diesel::table! {
    library_counts (owner_issuer, owner_subject) {
        owner_issuer -> Text,
        owner_subject -> Text,
        movies -> Int8,
    }
}

diesel::table! {
    library_movies (id) {
        id -> Uuid,
        owner_issuer -> Text,
        owner_subject -> Text,
        title -> Text,
        year -> Int4,
        image_url -> Nullable<Text>,
        poster_etag -> Nullable<Text>,
        poster_content_type -> Nullable<Text>,
        poster_thumbnail_type -> Nullable<Text>,
        poster_width -> Nullable<Int4>,
        poster_height -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    saved_titles (id) {
        id -> Uuid,
        owner_issuer -> Text,
        owner_subject -> Text,
        list -> Text,
        media_type -> Text,
        tmdb_id -> Int8,
        title -> Text,
        poster_path -> Nullable<Text>,
        added_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(library_counts, library_movies, saved_titles,);
