-- Idempotency keys: the first successful response to a creating POST, replayed for 24 hours.

CREATE TABLE idempotency_keys (
    org_id        uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    key           text NOT NULL,
    fingerprint   bytea NOT NULL,
    status        integer,
    body          bytea,
    headers       jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
