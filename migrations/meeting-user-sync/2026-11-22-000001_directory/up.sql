-- The user directory: one profile per (issuer, subject), whichever issuer signed
-- the user's tokens. Identity fields (email, name, image) come from the issuer;
-- bio and preferences are the user's own, and so is the name once the user sets it.
CREATE TABLE profiles (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    name TEXT,
    -- 'issuer' until the user renames themselves here; then the issuer's name no
    -- longer overwrites it.
    name_source TEXT NOT NULL DEFAULT 'issuer' CHECK (name_source IN ('issuer', 'user')),
    image_url TEXT,
    bio TEXT,
    preferences JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- The issuer's version of what is stored (Clerk's updated_at in ms, auth's in
    -- microseconds): older events and syncs are ignored.
    source_version BIGINT NOT NULL DEFAULT 0,
    deleted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX profiles_subject_idx ON profiles (subject);

-- Webhook deliveries already applied, by their svix-id (replays are no-ops).
CREATE TABLE webhook_deliveries (
    svix_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
