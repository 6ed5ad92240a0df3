"""``vigil scan``: upload a folder or archive (or queue a git URL), wait, report, gate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Final

from vigil_client.archive import zip_folder
from vigil_client.cli import exits
from vigil_client.cli.output import findings_table, scan_summary, to_json
from vigil_client.cli.progress import Progress
from vigil_client.client import VigilClient
from vigil_client.errors import VigilError
from vigil_client.gitlab import sast_report
from vigil_client.models import SEVERITIES, ArchiveType, Finding, Scan

FORMATS: Final = ("table", "json", "sarif", "markdown", "gitlab-sast")
REPORT_FORMATS: Final = frozenset({"sarif", "markdown"})
# Formats that need the finished scan: the server's reports and those rendered here.
WAIT_FORMATS: Final = frozenset({*REPORT_FORMATS, "gitlab-sast"})
# Findings a gate ignores: filtered as false positives, or triaged as not a problem.
_CLEARED: Final = frozenset({"invalid", "acknowledged"})
ARCHIVE_SUFFIXES: Final[dict[str, ArchiveType]] = {
    ".zip": "zip", ".tar": "tar", ".tar.gz": "tar.gz", ".tgz": "tar.gz",
    ".tar.bz2": "tar.bz2", ".tar.xz": "tar.xz",
}  # fmt: skip


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Register ``vigil scan``."""
    p = commands.add_parser(
        "scan", parents=[parent], help="scan a folder, archive or git repository",
        description="Scan a local folder (zipped honouring .gitignore and .vigilignore), an "
        "archive file, or a git URL. Exit codes: 0 ok, 1 findings at or above --fail-on, "
        "2 usage or API error, 3 the scan failed.",
    )  # fmt: skip
    p.add_argument("target", help="a folder, a .zip/.tar[.gz|.bz2|.xz] file, or a git URL")
    p.add_argument("--ref", help="branch, tag or commit of a git URL")
    p.add_argument("--project", help="project name (default: the folder or repository name)")
    p.add_argument(
        "--git-token", default=os.environ.get("VIGIL_GIT_TOKEN"),
        help="token for a private repository, never stored (default: $VIGIL_GIT_TOKEN)",
    )  # fmt: skip
    p.add_argument("--wait", action="store_true", help="wait for the scan to finish")
    p.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        help="exit 1 on findings this severe or worse (implies --wait)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (all but table and json imply --wait)",
    )
    p.add_argument("--output", type=Path, help="write the output to this file instead of stdout")
    p.add_argument(
        "--presigned", action="store_true", help="upload through a presigned URL (to S3 directly)"
    )
    p.add_argument(
        "--poll-interval", type=float, default=2.0, help="seconds between polls (default 2)"
    )
    p.add_argument("--wait-timeout", type=float, help="give up waiting after this many seconds")
    p.set_defaults(run=run)


def _is_git_url(target: str) -> bool:
    return "://" in target or target.startswith("git@")


def _archive_kind(path: Path) -> ArchiveType | None:
    name = path.name.lower()
    return next((kind for suffix, kind in ARCHIVE_SUFFIXES.items() if name.endswith(suffix)), None)


def _default_project(target: str) -> str:
    name = target.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    if not _is_git_url(target):
        path = Path(target).resolve()
        name = path.name if path.is_dir() else path.name.split(".", 1)[0]
    return name or "default"


def submit(client: VigilClient, args: argparse.Namespace) -> Scan:
    """Create the scan the arguments describe."""
    project = args.project or _default_project(args.target)
    if _is_git_url(args.target):
        return client.scan_git(args.target, ref=args.ref, project=project, git_token=args.git_token)
    path = Path(args.target)
    kind: ArchiveType = "zip"
    if path.is_dir():
        body = zip_folder(path)
    elif path.is_file() and (found := _archive_kind(path)) is not None:
        body, kind = path.read_bytes(), found
    else:
        raise VigilError("usage", f"{args.target} is not a folder, an archive or a git URL")
    upload = client.upload_archive_presigned if args.presigned else client.upload_archive
    return upload(body, project=project, kind=kind)


def reportable(findings: list[Finding]) -> list[Finding]:
    """Findings that stand: reported (not filtered) and not triaged away."""
    return [f for f in findings if f.status == "reported" and f.validity not in _CLEARED]


def blocking(findings: list[Finding], threshold: str) -> list[Finding]:
    """Standing findings at or above ``threshold``."""
    floor = SEVERITIES.index(threshold)
    return [
        f
        for f in reportable(findings)
        if f.severity in SEVERITIES and SEVERITIES.index(f.severity) >= floor
    ]


def render(client: VigilClient, scan: Scan, fmt: str) -> bytes:
    """The scan in the chosen format."""
    if fmt in REPORT_FORMATS:
        try:
            return client.report(scan.id, "sarif" if fmt == "sarif" else "markdown")
        except VigilError as exc:
            if exc.status == 404 and exc.code == "not_found" and "scan" not in exc.message:
                raise VigilError(
                    "report_unavailable",
                    f"this Vigil server cannot render {fmt} reports (GET /v1/scans/{{id}}/report"
                    " answered 404); use --format json or table",
                    status=404,
                ) from None
            raise
    if fmt == "json":
        return to_json(scan).encode()
    if fmt == "gitlab-sast":
        return to_json(sast_report(scan, reportable(scan.findings or []))).encode()
    findings = reportable(scan.findings or [])
    return (scan_summary(scan) + ("\n" + findings_table(findings) if findings else "")).encode()


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        print(f"wrote {output}", file=sys.stderr)


def run(client: VigilClient, args: argparse.Namespace) -> int:
    """Submit, optionally wait, write the output, and pick the exit code."""
    scan = submit(client, args)
    print(f"scan {scan.id} created ({scan.status})", file=sys.stderr)
    if not (args.wait or args.fail_on or args.format in WAIT_FORMATS):
        _emit(render(client, scan, args.format), args.output)
        return exits.OK
    scan = client.wait_for_scan(
        scan.id, poll_interval=args.poll_interval, timeout=args.wait_timeout,
        on_progress=Progress(sys.stderr),
    )  # fmt: skip
    if scan.status == "failed":
        print(f"scan {scan.id} failed: {scan.error}", file=sys.stderr)
        return exits.SCAN_FAILED
    _emit(render(client, scan, args.format), args.output)
    if args.fail_on and (found := blocking(scan.findings or [], args.fail_on)):
        print(f"{len(found)} finding(s) at or above {args.fail_on}", file=sys.stderr)
        return exits.FINDINGS
    return exits.OK
