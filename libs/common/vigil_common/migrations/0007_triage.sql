-- Triage: a validity per finding, decisions that carry over to the same code in later scans,
-- comments, when each finding was first seen, and an audit log of key and triage actions.

ALTER TABLE findings
    ADD COLUMN validity            text NOT NULL DEFAULT 'unreviewed'
        CHECK (validity IN ('unreviewed', 'valid', 'invalid', 'acknowledged')),
    ADD COLUMN validity_reason     text,
    ADD COLUMN validity_until      timestamptz,
    ADD COLUMN triaged_at          timestamptz,
    ADD COLUMN first_seen_scan_id  uuid,
    ADD COLUMN first_seen_at       timestamptz NOT NULL DEFAULT now();
CREATE INDEX findings_project_fingerprint ON findings (project_id, fingerprint);

-- The latest decision per project and fingerprint: applied to the finding in every later scan.
CREATE TABLE triage_decisions (
    project_id   uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    fingerprint  text NOT NULL,
    validity     text NOT NULL,
    reason       text,
    until        timestamptz,
    key_id       uuid,
    decided_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, fingerprint)
);

CREATE TABLE finding_comments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    finding_id  uuid NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    org_id      uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    key_id      uuid,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX finding_comments_finding ON finding_comments (finding_id, created_at);

CREATE TABLE audit_log (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    key_id       uuid,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    uuid,
    details      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org ON audit_log (org_id, created_at DESC, id DESC);
