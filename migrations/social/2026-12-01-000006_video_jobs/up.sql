-- Processing of uploaded videos: one job per video in `processing`. A replica
-- claims a due job (FOR UPDATE SKIP LOCKED) and holds it for a lease; a job
-- whose replica stopped is claimed again when the lease runs out. Failures are
-- retried later (run_after) up to a bound of attempts.
CREATE TABLE video_jobs (
    video_id UUID PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    attempts INT NOT NULL DEFAULT 0,
    run_after TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX video_jobs_run_after_idx ON video_jobs (run_after);
