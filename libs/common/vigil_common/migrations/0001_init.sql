-- Vigil's first schema: tenancy, keys, projects, scans with their status history, findings.

CREATE TABLE organisations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name          text NOT NULL,
    prefix        text NOT NULL,
    key_hash      bytea NOT NULL UNIQUE,
    scopes        text[] NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);

CREATE TABLE scans (
    id              uuid PRIMARY KEY,
    org_id          uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    project_id      uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_type     text NOT NULL CHECK (source_type IN ('upload', 'git')),
    archive_format  text,
    repo_url        text,
    ref             text,
    commit_sha      text,
    upload_key      text,
    tree_key        text,
    manifest_key    text,
    status          text NOT NULL CHECK (status IN
                        ('created', 'queued', 'running', 'completed', 'failed', 'cancelled')),
    stage           text CHECK (stage IN ('ingest', 'static', 'hunt', 'validate')),
    error           text,
    total_files     integer,
    total_bytes     bigint,
    languages       jsonb,
    finding_counts  jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scans_org_created ON scans (org_id, created_at DESC, id DESC);

-- The status history: one row per step, written once even when a message is redelivered.
CREATE TABLE scan_events (
    seq      bigserial PRIMARY KEY,
    scan_id  uuid NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    name     text NOT NULL,
    status   text NOT NULL,
    stage    text,
    detail   text,
    at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (scan_id, name)
);

CREATE TABLE findings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scan_id         uuid NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    org_id          uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    project_id      uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    fingerprint     text NOT NULL,
    scanner         text NOT NULL,
    rule_id         text NOT NULL,
    cwe             text[] NOT NULL DEFAULT '{}',
    owasp           text[] NOT NULL DEFAULT '{}',
    severity        text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    confidence      text NOT NULL CHECK (confidence IN ('high', 'medium', 'low')),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    recommendation  text NOT NULL DEFAULT '',
    file_path       text NOT NULL,
    start_line      integer NOT NULL,
    end_line        integer NOT NULL,
    snippet         text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'reported' CHECK (status IN ('reported', 'filtered')),
    filter_reason   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (scan_id, fingerprint)
);
CREATE INDEX findings_scan ON findings (scan_id, severity);
