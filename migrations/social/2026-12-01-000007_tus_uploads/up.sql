-- Resumable uploads (tus 1.0.0). The bytes arrive in parts, one object per
-- PATCH (`uploads/<id>/<part>`), so that any replica can take the next one;
-- when the last byte is in, the parts become the video's original and the
-- upload points at the video. `busy_until` keeps two PATCHes of one upload
-- from running at once; expired uploads are swept with their parts.
CREATE TABLE tus_uploads (
    id UUID PRIMARY KEY,
    owner_issuer TEXT NOT NULL,
    owner_subject TEXT NOT NULL,
    upload_length BIGINT NOT NULL CHECK (upload_length >= 0),
    upload_offset BIGINT NOT NULL DEFAULT 0 CHECK (upload_offset >= 0 AND upload_offset <= upload_length),
    parts INT NOT NULL DEFAULT 0,
    caption TEXT NOT NULL DEFAULT '',
    filename TEXT,
    busy_until TIMESTAMPTZ,
    video_id UUID REFERENCES videos (id) ON DELETE SET NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tus_uploads_expires_idx ON tus_uploads (expires_at);
