-- Answers to requests sent with an Idempotency-Key (common::idempotency): one per
-- caller and key, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the request as the handler read it.
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status INTEGER,
    body BYTEA,
    -- The `id` of what the answer created: deleting it forgets the answer, so a
    -- replay never points at something gone.
    resource TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_resource_idx ON idempotency_keys (resource) WHERE resource IS NOT NULL;
