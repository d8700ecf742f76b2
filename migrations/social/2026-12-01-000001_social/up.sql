-- The short-video app: videos, their hashtags, likes, comments, follows and the
-- counters that profiles and lists show. People are (issuer, subject) pairs, as
-- in the directory; their names and avatars stay in the directory.

CREATE TABLE videos (
    id UUID PRIMARY KEY,
    author_issuer TEXT NOT NULL,
    author_subject TEXT NOT NULL,
    caption TEXT NOT NULL DEFAULT '' CHECK (char_length(caption) <= 2200),
    -- Lower-cased, without '#', in order of first appearance.
    hashtags TEXT[] NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
    failure_reason TEXT,
    source TEXT NOT NULL CHECK (source IN ('upload', 'external')),
    -- What is known of the media (crate::db::models::Media): where an external
    -- video and its poster are hosted; duration and size once probed.
    media JSONB NOT NULL DEFAULT '{}'::jsonb,
    like_count BIGINT NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count BIGINT NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    view_count BIGINT NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A profile's grid and the following feed: one author's videos, newest first.
CREATE INDEX videos_author_idx ON videos (author_issuer, author_subject, created_at DESC, id DESC);
-- What everyone may see, newest first.
CREATE INDEX videos_ready_idx ON videos (created_at DESC, id DESC) WHERE status = 'ready';
-- Caption search.
CREATE INDEX videos_caption_search_idx ON videos USING gin (to_tsvector('simple', caption));

-- A hashtag's videos, newest first (ready ones only: a video's tags are written
-- when it becomes ready).
CREATE TABLE video_tags (
    tag TEXT NOT NULL,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tag, video_id)
);
CREATE INDEX video_tags_recent_idx ON video_tags (tag, created_at DESC, video_id DESC);
CREATE INDEX video_tags_video_idx ON video_tags (video_id);

CREATE TABLE video_likes (
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    user_issuer TEXT NOT NULL,
    user_subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_issuer, user_subject)
);
-- "Videos I liked", newest like first.
CREATE INDEX video_likes_user_idx ON video_likes (user_issuer, user_subject, created_at DESC, video_id DESC);

-- Comments with one level of replies: a reply's parent is always a top-level
-- comment. A deleted comment that has replies stays, without its text.
CREATE TABLE comments (
    id UUID PRIMARY KEY,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    parent_id UUID REFERENCES comments (id) ON DELETE CASCADE,
    author_issuer TEXT NOT NULL,
    author_subject TEXT NOT NULL,
    text TEXT CHECK (char_length(text) BETWEEN 1 AND 1000),
    deleted BOOLEAN NOT NULL DEFAULT false,
    reply_count BIGINT NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
    like_count BIGINT NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (deleted OR text IS NOT NULL)
);
CREATE INDEX comments_top_level_idx ON comments (video_id, created_at DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX comments_replies_idx ON comments (parent_id, created_at, id) WHERE parent_id IS NOT NULL;

CREATE TABLE comment_likes (
    comment_id UUID NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_issuer TEXT NOT NULL,
    user_subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (comment_id, user_issuer, user_subject)
);

CREATE TABLE follows (
    follower_issuer TEXT NOT NULL,
    follower_subject TEXT NOT NULL,
    followee_issuer TEXT NOT NULL,
    followee_subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_issuer, follower_subject, followee_issuer, followee_subject),
    CHECK ((follower_issuer, follower_subject) <> (followee_issuer, followee_subject))
);
-- "Who follows X", newest first ("whom X follows" is the primary key's order).
CREATE INDEX follows_followee_idx ON follows (followee_issuer, followee_subject, created_at DESC);
CREATE INDEX follows_follower_recent_idx ON follows (follower_issuer, follower_subject, created_at DESC);

-- Everyone this service has seen (acted, or was acted on), with the counters
-- of their profile. Written in the same transaction as the rows they count.
CREATE TABLE user_stats (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    follower_count BIGINT NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    following_count BIGINT NOT NULL DEFAULT 0 CHECK (following_count >= 0),
    -- Ready videos.
    video_count BIGINT NOT NULL DEFAULT 0 CHECK (video_count >= 0),
    -- Likes received on their videos.
    like_count BIGINT NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_stats_subject_idx ON user_stats (subject);
