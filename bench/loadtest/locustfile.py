"""Locust users for ``make load``: many organisations' keys reading and creating scans.

Each user takes the next key of the seeded organisations (``VIGIL_LOAD_SEED``, a JSON file
written by ``run.py``: keys, each with its scans' ids, and a small ZIP to upload) and mixes
the gateway's read endpoints with scan creation, weighted as a CI-heavy user base would.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, task

SEED: dict[str, Any] = json.loads(Path(os.environ["VIGIL_LOAD_SEED"]).read_text())
ARCHIVE = Path(SEED["archive"]).read_bytes()
_KEYS = itertools.cycle(SEED["orgs"])


class ApiUser(FastHttpUser):
    """One API client of one organisation, sending its next request as soon as answered.

    No think time (``VIGIL_LOAD_WAIT`` seconds if set): the run measures what the gateway
    sustains, not what a given number of people would send.
    """

    wait_time = constant(float(os.environ.get("VIGIL_LOAD_WAIT", "0")))

    def on_start(self) -> None:
        """Take the next organisation's key and scans."""
        org = next(_KEYS)
        self.scans: list[str] = org["scans"]
        self.auth = {"Authorization": f"Bearer {org['key']}"}

    @task(6)
    def get_scan(self) -> None:
        """``GET /v1/scans/{id}`` of one of the organisation's scans."""
        scan_id = random.choice(self.scans)
        self.client.get(f"/v1/scans/{scan_id}", name="/v1/scans/{id}", headers=self.auth)

    @task(3)
    def list_scans(self) -> None:
        """``GET /v1/scans``, first page."""
        self.client.get("/v1/scans?limit=20", name="/v1/scans", headers=self.auth)

    @task(3)
    def list_findings(self) -> None:
        """``GET /v1/findings``, first page."""
        self.client.get("/v1/findings?limit=20", name="/v1/findings", headers=self.auth)

    @task(1)
    def create_scan(self) -> None:
        """``POST /v1/scans`` with a small ZIP as the body."""
        # geventhttpclient sends bytes as they are; locust's annotation names only str and dict.
        self.client.post(
            "/v1/scans?project=load", data=ARCHIVE, name="/v1/scans",  # type: ignore[arg-type]
            headers={**self.auth, "Content-Type": "application/zip"},
        )  # fmt: skip
