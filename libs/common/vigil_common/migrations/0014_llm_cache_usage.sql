-- LLM answers cached by (scope, model, prompt hash), so a re-scan of unchanged code costs no
-- tokens (docs/ai.md). The scope is the organisation: a hit is never shared across tenants,
-- because a cached call is visible in the scan's usage and would tell one tenant that another
-- scanned the same code. Rows older than VIGIL_LLM_CACHE_TTL_SECONDS are ignored and purged.
-- Per-stage usage and cost stay in scans.llm_usage (0006), which gains cached_calls, cost_usd,
-- embedding_tokens and model keys; no schema change is needed for that.

CREATE TABLE IF NOT EXISTS llm_cache (
    scope             text NOT NULL,
    model             text NOT NULL,
    prompt_hash       text NOT NULL,
    answer            text NOT NULL,
    prompt_tokens     integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, model, prompt_hash)
);

CREATE INDEX IF NOT EXISTS llm_cache_created_at ON llm_cache (created_at);
