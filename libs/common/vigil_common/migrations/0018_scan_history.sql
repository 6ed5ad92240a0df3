-- The scan's status history, copied onto the scan row as it is written.
-- GET /v1/scans/{id} is the API's most frequent read: reading one row is cheaper than
-- aggregating scan_events on every call. scan_events stays the record (one row per step,
-- written once); the trigger appends each new step to the copy in the same transaction.
ALTER TABLE scans ADD COLUMN history jsonb NOT NULL DEFAULT '[]';

UPDATE scans s SET history = h.steps
FROM (
    SELECT e.scan_id, jsonb_agg(jsonb_build_object('name', e.name, 'status', e.status,
        'stage', e.stage, 'detail', e.detail, 'at', e.at) ORDER BY e.seq) AS steps
    FROM scan_events e GROUP BY e.scan_id
) h
WHERE h.scan_id = s.id;

CREATE FUNCTION scan_history_append() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE scans SET history = history || jsonb_build_array(jsonb_build_object(
        'name', NEW.name, 'status', NEW.status, 'stage', NEW.stage, 'detail', NEW.detail,
        'at', NEW.at))
    WHERE id = NEW.scan_id;
    RETURN NULL;
END
$$;

-- Row-level AFTER INSERT: a step skipped by ON CONFLICT DO NOTHING is not appended twice.
CREATE TRIGGER scan_events_history AFTER INSERT ON scan_events
    FOR EACH ROW EXECUTE FUNCTION scan_history_append();
