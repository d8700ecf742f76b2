-- One author's ready videos, newest first, answered from the index alone: the
-- following feed of someone who follows few creators walks each of them here
-- (db::videos::following_feed).
CREATE INDEX videos_author_ready_idx ON videos (author_issuer, author_subject, created_at DESC, id DESC)
    WHERE status = 'ready';
