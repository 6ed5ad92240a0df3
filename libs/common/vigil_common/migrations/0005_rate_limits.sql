-- Rate-limit usage per key, bucket and one-minute window, shared by every gateway replica.

CREATE TABLE rate_limit_usage (
    key_id        uuid NOT NULL,
    bucket        text NOT NULL,
    window_start  timestamptz NOT NULL,
    used          integer NOT NULL,
    PRIMARY KEY (key_id, bucket, window_start)
);
CREATE INDEX rate_limit_usage_window ON rate_limit_usage (window_start);
