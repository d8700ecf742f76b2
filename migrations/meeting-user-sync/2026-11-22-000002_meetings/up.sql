-- Meetings, their participants and their chat. Users are (issuer, subject) pairs,
-- as in the directory.
CREATE TABLE meetings (
    id UUID PRIMARY KEY,
    title TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description TEXT,
    host_issuer TEXT NOT NULL,
    host_subject TEXT NOT NULL,
    -- Ten random letters (about 47 bits), shown as xxx-xxxx-xxx.
    join_code TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
    scheduled_at TIMESTAMPTZ,
    duration_minutes INTEGER CHECK (duration_minutes BETWEEN 1 AND 1440),
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT meetings_join_code_key UNIQUE (join_code)
);

CREATE TABLE participants (
    meeting_id UUID NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('host', 'participant')),
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the participant leaves; cleared when they join again.
    left_at TIMESTAMPTZ,
    -- Set when the host removes them; they cannot join again.
    removed_at TIMESTAMPTZ,
    PRIMARY KEY (meeting_id, issuer, subject)
);

-- "Meetings I host or joined", newest first.
CREATE INDEX participants_user_idx ON participants (issuer, subject, joined_at DESC);

CREATE TABLE messages (
    id UUID PRIMARY KEY,
    meeting_id UUID NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    sender_issuer TEXT NOT NULL,
    sender_subject TEXT NOT NULL,
    text TEXT NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Chat history newest first, by keyset (created_at, id).
CREATE INDEX messages_meeting_idx ON messages (meeting_id, created_at DESC, id DESC);
