-- The trending ranking, one snapshot a minute (crate::db::trending), so a cursor
-- keeps walking the ranking it started on.
CREATE TABLE trending_snapshots (
    id BIGSERIAL PRIMARY KEY,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE trending_entries (
    snapshot_id BIGINT NOT NULL REFERENCES trending_snapshots (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (snapshot_id, rank)
);
CREATE INDEX trending_entries_video_idx ON trending_entries (video_id);

-- A for-you ranking per walk of the feed, kept for its cursors, and what the
-- feed gave whom (left out of their next walks for 7 days).
CREATE TABLE foryou_sessions (
    id UUID PRIMARY KEY,
    user_issuer TEXT NOT NULL,
    user_subject TEXT NOT NULL,
    snapshot_id BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX foryou_sessions_created_idx ON foryou_sessions (created_at);
CREATE TABLE foryou_entries (
    session_id UUID NOT NULL REFERENCES foryou_sessions (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, rank)
);
CREATE INDEX foryou_entries_video_idx ON foryou_entries (video_id);
CREATE TABLE foryou_deliveries (
    user_issuer TEXT NOT NULL,
    user_subject TEXT NOT NULL,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    delivered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_issuer, user_subject, video_id)
);
CREATE INDEX foryou_deliveries_time_idx ON foryou_deliveries (delivered_at);
