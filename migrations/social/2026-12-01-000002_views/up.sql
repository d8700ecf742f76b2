-- Views. With Redis, views are de-duplicated and buffered there and applied here
-- in batches; a batch's id is recorded in the transaction that applies it, so a
-- batch retried after a crash is never counted twice. Without Redis, views are
-- de-duplicated by view_marks and counted at once.
CREATE TABLE view_batches (
    id TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX view_batches_applied_idx ON view_batches (applied_at);

CREATE TABLE view_marks (
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    -- `u:<issuer>:<subject>` or `a:<hash of address and user agent>`.
    viewer TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, viewer)
);
CREATE INDEX view_marks_seen_idx ON view_marks (seen_at);

-- What signed-in users have watched: the for-you feed leaves it out for 7 days.
CREATE TABLE seen_videos (
    user_issuer TEXT NOT NULL,
    user_subject TEXT NOT NULL,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_issuer, user_subject, video_id)
);
CREATE INDEX seen_videos_seen_idx ON seen_videos (seen_at);
