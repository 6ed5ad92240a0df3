-- The endpoint index: the HTTP routes the static stage found in a scan's tree (docs/endpoints.md),
-- and whether the tree is an MCP server. Rows are replaced as a whole when the stage re-runs.

CREATE TABLE scan_endpoints (
    scan_id     uuid NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    org_id      uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    method      text NOT NULL,
    path        text NOT NULL,
    file_path   text NOT NULL,
    line        integer NOT NULL,
    handler     text NOT NULL DEFAULT '',
    framework   text NOT NULL,
    auth        boolean NOT NULL,
    auth_hint   text NOT NULL DEFAULT '',
    PRIMARY KEY (scan_id, seq)
);

-- NULL until the static stage has indexed the scan (older scans, or extraction failed).
ALTER TABLE scans ADD COLUMN endpoint_count integer;
ALTER TABLE scans ADD COLUMN is_mcp_server boolean;
