-- The transactional outbox of user changes for the directory (meeting-user-sync):
-- written in the same transaction as the change, delivered by a worker with
-- retries, applied there idempotently by version.
CREATE TABLE user_events (
    id BIGSERIAL PRIMARY KEY,
    user_id UUID NOT NULL,
    event_type TEXT NOT NULL CHECK (event_type IN ('user.created', 'user.updated', 'user.disabled')),
    -- The user's updated_at in microseconds when the event was written.
    version BIGINT NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ,
    last_error TEXT
);

CREATE INDEX user_events_due_idx ON user_events (next_attempt_at, id) WHERE delivered_at IS NULL;
