"""The CLI's exit codes (docs/cli.md)."""

from __future__ import annotations

from typing import Final

OK: Final = 0
FINDINGS: Final = 1  # findings at or above --fail-on (or a webhook signature that fails)
ERROR: Final = 2  # usage, configuration or API error
SCAN_FAILED: Final = 3  # the scan ended as failed
