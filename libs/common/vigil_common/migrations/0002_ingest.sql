-- Ingest's classification of a scan's source (issue 4): what was kept, ignored and skipped,
-- languages with lines of code, and a complexity score. `languages` stays {language: files}.

ALTER TABLE scans
    ADD COLUMN IF NOT EXISTS included_files       integer,
    ADD COLUMN IF NOT EXISTS ignored_files        integer,
    ADD COLUMN IF NOT EXISTS risky_skipped_files  integer,
    ADD COLUMN IF NOT EXISTS skipped_files        jsonb,
    ADD COLUMN IF NOT EXISTS included_bytes       bigint,
    ADD COLUMN IF NOT EXISTS language_stats       jsonb,
    ADD COLUMN IF NOT EXISTS complexity_score     integer
        CHECK (complexity_score BETWEEN 0 AND 100),
    ADD COLUMN IF NOT EXISTS complexity_label     text
        CHECK (complexity_label IN ('small', 'moderate', 'large', 'very large'));
