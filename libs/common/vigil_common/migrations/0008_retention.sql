-- Per-organisation retention: finished scans older than this many days are deleted.

ALTER TABLE organisations
    ADD COLUMN retention_days integer CHECK (retention_days > 0);
CREATE INDEX scans_finished ON scans (finished_at) WHERE finished_at IS NOT NULL;
