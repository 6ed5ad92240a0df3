-- Fair use: a scan waits (queued, not admitted) while its organisation runs its cap of scans;
-- the request to publish when a slot frees is kept on the row (git tokens in it stay sealed).

ALTER TABLE scans
    ADD COLUMN admitted_at     timestamptz,
    ADD COLUMN pending_request jsonb;
UPDATE scans SET admitted_at = coalesce(started_at, created_at) WHERE status <> 'created';
CREATE INDEX scans_waiting ON scans (org_id, created_at) WHERE admitted_at IS NULL;
