"""The typed, synchronous Vigil API client.

from vigil_client import VigilClient

with VigilClient("http://127.0.0.1:8080", api_key="vgl_…") as vigil:
    scan = vigil.upload_archive(open("app.zip", "rb").read(), project="web")
    scan = vigil.wait_for_scan(scan.id, on_progress=lambda s: print(s.status, s.stage))
    for finding in vigil.iter_findings(scan_id=scan.id, severity=["high", "critical"]):
        print(finding.severity, finding.file_path, finding.title)
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, Final, Literal, TypeVar

from vigil_client.admin import AdminClient
from vigil_client.base import Query, params_of
from vigil_client.errors import VigilError
from vigil_client.models import (
    ArchiveType,
    Finding,
    FindingPage,
    Me,
    Scan,
    ScanPage,
    Validity,
)

T = TypeVar("T")
ReportFormat = Literal["sarif", "markdown", "json", "html", "pdf"]

CONTENT_TYPES: Final[dict[str, str]] = {
    "zip": "application/zip",
    "tar": "application/x-tar",
    "tar.gz": "application/gzip",
    "tar.bz2": "application/x-bzip2",
    "tar.xz": "application/x-xz",
}


class VigilClient(AdminClient):
    """The whole v1 API: scans, findings and triage here; keys and webhooks from
    :class:`AdminClient`."""

    # -- identity -----------------------------------------------------------------------

    def me(self) -> Me:
        """``GET /v1/me``: the organisation and key calling."""
        return self._call(Me, "GET", "/v1/me")

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document the gateway serves (no key needed)."""
        return self._call(dict[str, Any], "GET", "/v1/openapi.json", authenticated=False)

    # -- scans ----------------------------------------------------------------------------

    def upload_archive(
        self, archive: bytes | IO[bytes], *, project: str | None = None, kind: ArchiveType = "zip"
    ) -> Scan:
        """Direct upload: the archive is the body of ``POST /v1/scans``; the scan is queued."""
        body = archive if isinstance(archive, bytes) else archive.read()
        params = params_of({"project": project})
        headers = {"Content-Type": CONTENT_TYPES[kind]}
        return self._create(Scan, "/v1/scans", content=body, params=params, headers=headers)

    def upload_archive_presigned(
        self, archive: bytes | IO[bytes], *, project: str | None = None, kind: ArchiveType = "zip"
    ) -> Scan:
        """Presigned upload: create the scan, PUT the archive to its URL, then start it."""
        body = archive if isinstance(archive, bytes) else archive.read()
        created = self._create(
            Scan, "/v1/scans", json=params_of({"source_type": kind, "project": project})
        )
        if created.upload is None:
            raise VigilError("bad_response", "the created scan has no upload URL", status=201)
        target = created.upload
        self.transport.request(
            target.method, target.url, content=body, headers=target.headers, authenticated=False
        )
        return self._call(Scan, "POST", f"/v1/scans/{created.id}/start")

    def scan_git(
        self,
        repo_url: str,
        *,
        ref: str | None = None,
        project: str | None = None,
        git_token: str | None = None,
    ) -> Scan:
        """Queue a scan of a git repository at ``ref`` (the token is never stored)."""
        body = {"source_type": "git", "repo_url": repo_url, "ref": ref, "project": project}
        return self._create(Scan, "/v1/scans", json=params_of({**body, "git_token": git_token}))

    def get_scan(self, scan_id: str, *, include_findings: bool = False) -> Scan:
        """``GET /v1/scans/{id}``."""
        params = {"include_findings": "true"} if include_findings else {}
        return self._call(Scan, "GET", f"/v1/scans/{scan_id}", params=params)

    def list_scans(
        self,
        *,
        status: Sequence[str] | None = None,
        project: str | None = None,
        since: dt.datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ScanPage:
        """One page of scans, newest first."""
        query: Query = {"status": status, "project": project, "limit": limit, "cursor": cursor}
        params = params_of({**query, "since": since.isoformat() if since else None})
        return self._call(ScanPage, "GET", "/v1/scans", params=params)

    def iter_scans(self, **filters: Any) -> Iterator[Scan]:
        """Every scan matching ``filters`` (those of :meth:`list_scans`), page after page."""

        def page(cursor: str | None) -> tuple[list[Scan], str | None]:
            listing = self.list_scans(**filters, cursor=cursor)
            return listing.items, listing.next_cursor

        return _paginate(page)

    def cancel_scan(self, scan_id: str) -> Scan:
        """``POST /v1/scans/{id}/cancel``."""
        return self._call(Scan, "POST", f"/v1/scans/{scan_id}/cancel")

    def delete_scan(self, scan_id: str) -> None:
        """``DELETE /v1/scans/{id}``: the scan and everything it produced."""
        self.transport.request("DELETE", f"/v1/scans/{scan_id}")

    def report(self, scan_id: str, fmt: ReportFormat) -> bytes:
        """``GET /v1/scans/{id}/report?format=``: the rendered report's bytes."""
        response = self.transport.request(
            "GET", f"/v1/scans/{scan_id}/report", params={"format": fmt}
        )
        return response.content

    def wait_for_scan(
        self,
        scan_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float | None = None,
        on_progress: Callable[[Scan], None] | None = None,
        include_findings: bool = True,
    ) -> Scan:
        """Poll until the scan is completed or failed; ``on_progress`` sees every poll.

        Raises :class:`VigilError` (``scan_timeout``) after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            scan = self.get_scan(scan_id, include_findings=include_findings)
            if on_progress is not None:
                on_progress(scan)
            if scan.finished:
                return scan
            if deadline is not None and time.monotonic() >= deadline:
                raise VigilError("scan_timeout", f"scan {scan_id} is still {scan.status}")
            self._sleep(poll_interval)

    # -- findings ---------------------------------------------------------------------------

    def list_findings(
        self, *, scan_id: str | None = None, cursor: str | None = None, **filters: Any
    ) -> FindingPage:
        """One page of findings; filters: severity, status, validity, rule_id, scanner, cwe,
        project, file_prefix, since, limit (lists for the multi-valued ones)."""
        url = f"/v1/scans/{scan_id}/findings" if scan_id else "/v1/findings"
        return self._call(FindingPage, "GET", url, params=params_of({**filters, "cursor": cursor}))

    def iter_findings(self, *, scan_id: str | None = None, **filters: Any) -> Iterator[Finding]:
        """Every finding matching the filters, page after page."""

        def page(cursor: str | None) -> tuple[list[Finding], str | None]:
            listing = self.list_findings(scan_id=scan_id, cursor=cursor, **filters)
            return listing.items, listing.next_cursor

        return _paginate(page)

    def get_finding(self, finding_id: str) -> Finding:
        """``GET /v1/findings/{id}``."""
        return self._call(Finding, "GET", f"/v1/findings/{finding_id}")

    def triage(
        self,
        finding_id: str,
        validity: Validity,
        *,
        reason: str | None = None,
        until: dt.datetime | None = None,
    ) -> Finding:
        """``PATCH /v1/findings/{id}``: valid, invalid (false positive) or acknowledged."""
        body = params_of({"validity": validity, "reason": reason})
        if until is not None:
            body["until"] = until.isoformat()
        return self._call(Finding, "PATCH", f"/v1/findings/{finding_id}", json=body)

    def restore_finding(self, finding_id: str, *, reason: str) -> Finding:
        """Report again a finding the validator filtered (its reason is kept)."""
        body = {"status": "reported", "reason": reason}
        return self._call(Finding, "PATCH", f"/v1/findings/{finding_id}", json=body)


def _paginate(fetch: Callable[[str | None], tuple[Sequence[T], str | None]]) -> Iterator[T]:
    """Items of page after page, following ``next_cursor`` until it is null."""
    cursor: str | None = None
    while True:
        items, cursor = fetch(cursor)
        yield from items
        if cursor is None:
            return
