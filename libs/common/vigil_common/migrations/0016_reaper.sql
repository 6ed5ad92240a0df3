-- The stuck-scan reaper looks only at scans still in progress: keep that set cheap to find.

CREATE INDEX scans_in_progress ON scans (updated_at) WHERE status IN ('queued', 'running');
