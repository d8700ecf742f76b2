// @generated automatically by Diesel CLI.

diesel::table! {
    comment_likes (comment_id, user_issuer, user_subject) {
        comment_id -> Uuid,
        user_issuer -> Text,
        user_subject -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    comments (id) {
        id -> Uuid,
        video_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        author_issuer -> Text,
        author_subject -> Text,
        text -> Nullable<Text>,
        deleted -> Bool,
        reply_count -> Int8,
        like_count -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    follows (follower_issuer, follower_subject, followee_issuer, followee_subject) {
        follower_issuer -> Text,
        follower_subject -> Text,
        followee_issuer -> Text,
        followee_subject -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    foryou_deliveries (user_issuer, user_subject, video_id) {
        user_issuer -> Text,
        user_subject -> Text,
        video_id -> Uuid,
        delivered_at -> Timestamptz,
    }
}

diesel::table! {
    foryou_entries (session_id, rank) {
        session_id -> Uuid,
        rank -> Int4,
        video_id -> Uuid,
    }
}

diesel::table! {
    foryou_sessions (id) {
        id -> Uuid,
        user_issuer -> Text,
        user_subject -> Text,
        snapshot_id -> Int8,
        created_at -> Timestamptz,
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
    notification_actors (notification_id, actor_issuer, actor_subject) {
        notification_id -> Uuid,
        actor_issuer -> Text,
        actor_subject -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        recipient_issuer -> Text,
        recipient_subject -> Text,
        #[sql_name = "type"]
        type_ -> Text,
        target -> Text,
        video_id -> Nullable<Uuid>,
        comment_id -> Nullable<Uuid>,
        actor_count -> Int8,
        recent_actors -> Jsonb,
        seq -> Int8,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    seen_videos (user_issuer, user_subject, video_id) {
        user_issuer -> Text,
        user_subject -> Text,
        video_id -> Uuid,
        seen_at -> Timestamptz,
    }
}

diesel::table! {
    trending_entries (snapshot_id, rank) {
        snapshot_id -> Int8,
        rank -> Int4,
        video_id -> Uuid,
        score -> Float8,
    }
}

diesel::table! {
    trending_snapshots (id) {
        id -> Int8,
        computed_at -> Timestamptz,
    }
}

diesel::table! {
    tus_uploads (id) {
        id -> Uuid,
        owner_issuer -> Text,
        owner_subject -> Text,
        upload_length -> Int8,
        upload_offset -> Int8,
        parts -> Int4,
        caption -> Text,
        filename -> Nullable<Text>,
        busy_until -> Nullable<Timestamptz>,
        video_id -> Nullable<Uuid>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_stats (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        follower_count -> Int8,
        following_count -> Int8,
        video_count -> Int8,
        like_count -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    video_jobs (video_id) {
        video_id -> Uuid,
        attempts -> Int4,
        run_after -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    video_likes (video_id, user_issuer, user_subject) {
        video_id -> Uuid,
        user_issuer -> Text,
        user_subject -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    video_tags (tag, video_id) {
        tag -> Text,
        video_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    videos (id) {
        id -> Uuid,
        author_issuer -> Text,
        author_subject -> Text,
        caption -> Text,
        hashtags -> Array<Nullable<Text>>,
        status -> Text,
        failure_reason -> Nullable<Text>,
        source -> Text,
        media -> Jsonb,
        like_count -> Int8,
        comment_count -> Int8,
        view_count -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    view_batches (id) {
        id -> Text,
        applied_at -> Timestamptz,
    }
}

diesel::table! {
    view_marks (video_id, viewer) {
        video_id -> Uuid,
        viewer -> Text,
        seen_at -> Timestamptz,
    }
}

diesel::joinable!(comment_likes -> comments (comment_id));
diesel::joinable!(comments -> videos (video_id));
diesel::joinable!(foryou_deliveries -> videos (video_id));
diesel::joinable!(foryou_entries -> foryou_sessions (session_id));
diesel::joinable!(foryou_entries -> videos (video_id));
diesel::joinable!(notification_actors -> notifications (notification_id));
diesel::joinable!(notifications -> comments (comment_id));
diesel::joinable!(notifications -> videos (video_id));
diesel::joinable!(seen_videos -> videos (video_id));
diesel::joinable!(trending_entries -> trending_snapshots (snapshot_id));
diesel::joinable!(trending_entries -> videos (video_id));
diesel::joinable!(tus_uploads -> videos (video_id));
diesel::joinable!(video_jobs -> videos (video_id));
diesel::joinable!(video_likes -> videos (video_id));
diesel::joinable!(video_tags -> videos (video_id));
diesel::joinable!(view_marks -> videos (video_id));

diesel::allow_tables_to_appear_in_same_query!(
    comment_likes,
    comments,
    follows,
    foryou_deliveries,
    foryou_entries,
    foryou_sessions,
    idempotency_keys,
    notification_actors,
    notifications,
    seen_videos,
    trending_entries,
    trending_snapshots,
    tus_uploads,
    user_stats,
    video_jobs,
    video_likes,
    video_tags,
    videos,
    view_batches,
    view_marks,
);
