-- The scan's launch readiness beside its security score (docs/ai.md): a 0-100 figure, the
-- blocking items behind it ([{kind, count, message, finding_ids}]) and a plain-language
-- summary built from counts. Written by the validator, and again when a person restores a
-- filtered finding. NULL until the scan is validated.

ALTER TABLE scans
    ADD COLUMN IF NOT EXISTS launch_readiness  integer CHECK (launch_readiness BETWEEN 0 AND 100),
    ADD COLUMN IF NOT EXISTS launch_blockers   jsonb,
    ADD COLUMN IF NOT EXISTS summary           text;
