-- Notifications for likes, comments, replies and follows. Unread ones on the same
-- target group into one row (the video for likes and comments, the comment
-- replied to for replies, the recipient for follows), with its distinct actors
-- counted in notification_actors and the latest three kept for display. `seq`
-- is new on every change: the event id of the notification stream.
CREATE SEQUENCE notification_seq;

CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    recipient_issuer TEXT NOT NULL,
    recipient_subject TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('like', 'comment', 'reply', 'follow')),
    target TEXT NOT NULL,
    video_id UUID REFERENCES videos (id) ON DELETE CASCADE,
    -- The latest comment or reply of the group.
    comment_id UUID REFERENCES comments (id) ON DELETE SET NULL,
    actor_count BIGINT NOT NULL DEFAULT 1 CHECK (actor_count >= 1),
    -- [{"issuer": …, "subject": …}], newest first, at most three.
    recent_actors JSONB NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('notification_seq'),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX notifications_unread_group_idx
    ON notifications (recipient_issuer, recipient_subject, type, target) WHERE read_at IS NULL;
CREATE INDEX notifications_recipient_seq_idx ON notifications (recipient_issuer, recipient_subject, seq DESC);
CREATE INDEX notifications_video_idx ON notifications (video_id);
CREATE INDEX notifications_comment_idx ON notifications (comment_id);

CREATE TABLE notification_actors (
    notification_id UUID NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    actor_issuer TEXT NOT NULL,
    actor_subject TEXT NOT NULL,
    PRIMARY KEY (notification_id, actor_issuer, actor_subject)
);
