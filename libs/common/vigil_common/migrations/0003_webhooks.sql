-- Webhooks: organisation endpoints, per-scan callbacks, and the deliveries the notifier retries.

-- A scan may name its own callback (set by the gateway at scan creation); the secret is sealed
-- with VIGIL_SEALING_KEY for the purpose "webhook-secret", never stored in the clear.
ALTER TABLE scans
    ADD COLUMN callback_url            text,
    ADD COLUMN callback_secret_sealed  text;

CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                      uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    url                         text NOT NULL,
    description                 text NOT NULL DEFAULT '',
    event_types                 text[] NOT NULL,
    enabled                     boolean NOT NULL DEFAULT true,
    disabled_reason             text,
    secret_sealed               text NOT NULL,
    -- After a rotation the previous secret signs too, until it expires (receivers catch up).
    previous_secret_sealed      text,
    previous_secret_expires_at  timestamptz,
    -- Start of the current run of failed attempts; cleared by any success.
    failing_since               timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id);

-- One row per (destination, event): the source of truth for at-least-once delivery. The body is
-- stored as sent, so every attempt carries the same bytes and the same event id.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    endpoint_id      uuid REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    scan_id          uuid REFERENCES scans (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    payload          bytea NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    -- Endpoint deliveries; callback deliveries (no endpoint) are unique by the index below.
    UNIQUE (endpoint_id, event_id)
);
CREATE UNIQUE INDEX webhook_deliveries_callback ON webhook_deliveries (event_id)
    WHERE endpoint_id IS NULL;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at, id);

-- Every attempt, for the delivery log of the API.
CREATE TABLE webhook_attempts (
    id            bigserial PRIMARY KEY,
    delivery_id   uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    status        integer,
    latency_ms    integer NOT NULL,
    error         text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
