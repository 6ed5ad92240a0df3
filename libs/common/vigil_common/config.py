"""Typed settings read from ``VIGIL_*`` environment variables, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Final

import msgspec

PREFIX: Final = "VIGIL_"


class SettingsError(Exception):
    """A ``VIGIL_*`` variable is missing or malformed; the message names the variable."""


Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(gt=0)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting a Vigil process reads. Field ``x`` comes from ``VIGIL_X``.

    Defaults suit a developer's machine; deployments override them by environment.
    """

    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/vigil"
    database_pool_size: Positive = 10
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "vigil"
    s3_create_bucket: bool = False

    gateway_host: str = "127.0.0.1"
    gateway_port: Port = 8080
    bootstrap_api_key: str | None = None
    max_upload_bytes: Positive = 100 * 1024 * 1024
    upload_url_expiry_seconds: Positive = 3600
    # Lifetime of a presigned report download URL (GET /v1/scans/{id}/report?delivery=url).
    report_url_expiry_seconds: Positive = 300
    # Requests per key and minute, by bucket; scans per organisation and day/month (0: none).
    rate_limit_reads: Positive = 1200
    rate_limit_writes: Positive = 300
    rate_limit_scans: Positive = 60
    rate_limit_triage: Positive = 300
    scan_quota_daily: int = 0
    scan_quota_monthly: int = 0
    # Scans one organisation may run at once; more wait in order (0: no cap).
    max_running_scans_per_org: int = 4
    # Days a finished scan is kept unless its organisation sets its own (0: forever).
    retention_days: int = 0
    retention_sweep_seconds: Seconds = 3600.0
    public_url: str | None = None

    health_host: str = "127.0.0.1"
    health_port: Port = 0
    concurrency: Positive | None = None
    ack_wait_seconds: Seconds = 60.0
    max_deliver: Positive = 5
    stage_timeout_seconds: Seconds = 900.0
    # Where stages unpack trees; unset: /dev/shm when it has room, else the temp folder.
    scratch_dir: str | None = None
    # Reaper (gateway): a scan with no progress this long is failed as stuck; swept this often.
    stuck_scan_timeout_seconds: Seconds = 3600.0
    stuck_scan_sweep_seconds: Seconds = 60.0

    allow_private_networks: bool = False
    sealing_key: str | None = None
    # Webhooks: delays before each attempt (seconds, comma-separated; the count is the limit).
    webhook_retry_schedule: Annotated[
        str, msgspec.Meta(pattern=r"^\d+(\.\d+)?(,\d+(\.\d+)?)*$")
    ] = "0,5,300,1800,7200,18000,36000,36000"
    webhook_timeout_seconds: Seconds = 10.0
    webhook_secret_grace_seconds: Seconds = 24 * 3600.0
    webhook_disable_after_seconds: Seconds = 5 * 24 * 3600.0
    webhook_max_findings: Positive = 100
    webhook_concurrency: Positive = 16
    webhook_poll_seconds: Seconds = 1.0

    max_archive_bytes: Positive = 1024 * 1024 * 1024
    max_archive_files: Positive = 100_000
    max_file_bytes: Positive = 50 * 1024 * 1024
    max_compression_ratio: Positive = 200
    # Ingest: a source file larger than this is left out of the tree (not refused).
    max_source_file_bytes: Positive = 2 * 1024 * 1024
    git_timeout_seconds: Seconds = 300.0

    semgrep_bin: str = "semgrep"
    betterleaks_bin: str = "betterleaks"
    # Git sources: also scan this many commits of history for secrets (0: the checkout only).
    secrets_git_history_depth: NonNegative = 0
    osv_dir: str | None = None
    # Dependency audit online: an OSV API base URL (https://api.osv.dev); empty = offline only.
    osv_api_url: str = ""
    semgrep_rules: str | None = None
    semgrep_jobs: Positive | None = None
    # LLM stages (ai-hunter, validator): any OpenAI-compatible server; unset base URL or model
    # means the stages skip their LLM part and say so in the scan's history.
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_timeout_seconds: Seconds = 120.0
    llm_max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2
    llm_max_tokens: Positive = 2048
    # Hunter: files sent to the model per scan, and the estimated prompt tokens they may use.
    llm_max_files: Positive = 20
    llm_token_budget: Positive = 100_000
    # Validator: findings the model reviews per scan (0: none); whether a false-positive
    # verdict may filter a finding at all (else it only lowers its confidence), and whether
    # it may filter a critical one.
    llm_max_validations: Annotated[int, msgspec.Meta(ge=0)] = 100
    llm_may_filter: bool = False
    llm_filter_critical: bool = False
    # Answers cached by (model, prompt hash) in PostgreSQL for this long (0: no cache), and
    # USD per million prompt/completion tokens for the cost estimate on each scan.
    llm_cache_ttl_seconds: Annotated[int, msgspec.Meta(ge=0)] = 7 * 24 * 3600
    llm_price_input_per_mtok: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    llm_price_output_per_mtok: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    # Hunter retrieval by embeddings (OpenAI-compatible /embeddings); unset: lexical only.
    embeddings_base_url: str | None = None
    embeddings_api_key: str | None = None
    embeddings_model: str | None = None
    embeddings_batch_size: Positive = 64
    embeddings_max_chunks: Positive = 2000

    log_level: str = "INFO"
    log_format: str = "json"

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'***' if name in SECRET_FIELDS else repr(getattr(self, name))}"
            for name in self.__struct_fields__
        )
        return f"Settings({shown})"


# Names of settings that hold credentials: never printed, logged or echoed in errors.
SECRET_FIELDS: Final = frozenset(
    {
        "s3_secret_key",
        "bootstrap_api_key",
        "database_url",
        "sealing_key",
        "llm_api_key",
        "embeddings_api_key",
    }
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from the environment, or raise :class:`SettingsError`."""
    env = os.environ if environ is None else environ
    known = set(Settings.__struct_fields__)
    raw = {
        key[len(PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(PREFIX) and key[len(PREFIX) :].lower() in known and value != ""
    }
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_describe(exc, raw)) from None


def _describe(exc: msgspec.ValidationError, raw: Mapping[str, str]) -> str:
    """Turn msgspec's ``... - at `$.field` `` into a message naming the variable."""
    message = str(exc)
    reason, _, where = message.partition(" - at `$.")
    field = where.rstrip("`").split(".")[0].split("[")[0]
    if not field:
        return f"invalid Vigil settings: {message}"
    variable = PREFIX + field.upper()
    shown = "" if field in SECRET_FIELDS else f" (got {raw.get(field, '')!r})"
    return f"{variable} is invalid: {reason}{shown}"
