-- The AI stages (issue 6): the validator's score and grade, LLM usage per stage, and on each
-- finding where it came from (AI provenance, merged duplicates) and the verdict that kept or
-- filtered it, so a decision can be audited and re-run.

ALTER TABLE scans
    ADD COLUMN IF NOT EXISTS score      integer CHECK (score BETWEEN 0 AND 100),
    ADD COLUMN IF NOT EXISTS grade      text CHECK (grade IN ('A', 'B', 'C', 'D', 'F')),
    -- {"hunt": {"calls", "prompt_tokens", "completion_tokens", "failures"}, "validate": {...}}
    ADD COLUMN IF NOT EXISTS llm_usage  jsonb NOT NULL DEFAULT '{}';

ALTER TABLE findings
    -- AI findings: model, prompt version, reasoning summary; validator: LLM verdict.
    ADD COLUMN IF NOT EXISTS provenance      jsonb NOT NULL DEFAULT '{}',
    -- A filtered duplicate points at the finding it was merged into.
    ADD COLUMN IF NOT EXISTS duplicate_of    uuid REFERENCES findings (id) ON DELETE SET NULL,
    -- The scanners that reported the kept finding (itself and its merged duplicates).
    ADD COLUMN IF NOT EXISTS reported_by     text[] NOT NULL DEFAULT '{}';
