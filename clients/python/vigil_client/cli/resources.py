"""``vigil findings``, ``triage``, ``keys`` and ``webhooks``: thin commands over the client."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
from typing import Final, TypeAlias, get_args

from vigil_client.cli import exits
from vigil_client.cli.output import findings_table, table, to_json
from vigil_client.client import VigilClient
from vigil_client.errors import VigilError
from vigil_client.models import SEVERITIES, Validity

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
FORMATS: Final = ("table", "json")
EVENT_TYPES: Final = ("scan.completed", "scan.failed", "finding.triaged")


def _date(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")


def add_parsers(commands: Commands, parent: argparse.ArgumentParser) -> None:
    """Register the resource commands."""
    _findings(commands, parent)
    _triage(commands, parent)
    _keys(commands, parent)
    _webhooks(commands, parent)


def _findings(commands: Commands, parent: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "findings", parents=[parent], help="list findings, filtered",
        description="List findings, newest first, across scans or of one.",
    )  # fmt: skip
    p.add_argument("--scan", help="only this scan's findings")
    p.add_argument("--severity", action="append", choices=SEVERITIES, help="repeatable")
    p.add_argument("--status", action="append", choices=("reported", "filtered"))
    p.add_argument("--validity", action="append", choices=get_args(Validity))
    p.add_argument("--rule-id", action="append")
    p.add_argument("--scanner", action="append")
    p.add_argument("--cwe", action="append", help="e.g. CWE-89")
    p.add_argument("--project")
    p.add_argument("--file-prefix")
    p.add_argument("--limit", type=int, default=100, help="show at most this many (default 100)")
    _format(p)
    p.set_defaults(run=list_findings)


def list_findings(client: VigilClient, args: argparse.Namespace) -> int:
    """Print the findings matching the filters."""
    filters = {
        "severity": args.severity, "status": args.status, "validity": args.validity,
        "rule_id": args.rule_id, "scanner": args.scanner, "cwe": args.cwe,
        "project": args.project, "file_prefix": args.file_prefix,
        "limit": min(max(args.limit, 1), 200),
    }  # fmt: skip
    found = list(itertools.islice(client.iter_findings(scan_id=args.scan, **filters), args.limit))
    sys.stdout.write(to_json(found) if args.format == "json" else findings_table(found))
    return exits.OK


def _triage(commands: Commands, parent: argparse.ArgumentParser) -> None:
    p = commands.add_parser(
        "triage", parents=[parent], help="set a finding's validity",
        description="Confirm a finding, mark it a false positive, or accept the risk; later "
        "scans of the project inherit the verdict.",
    )  # fmt: skip
    p.add_argument("finding_id")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--validity", choices=get_args(Validity))
    verdict.add_argument(
        "--restore", action="store_true", help="report again a finding the validator filtered"
    )
    p.add_argument("--reason", help="why (required for invalid, acknowledged and --restore)")
    p.add_argument("--until", type=_date, help="acknowledged only: until this date")
    _format(p)
    p.set_defaults(run=triage)


def triage(client: VigilClient, args: argparse.Namespace) -> int:
    """Triage one finding and print it."""
    if args.restore:
        if not args.reason:
            raise VigilError("usage", "--restore needs a --reason")
        finding = client.restore_finding(args.finding_id, reason=args.reason)
    else:
        finding = client.triage(
            args.finding_id, args.validity, reason=args.reason, until=args.until
        )
    sys.stdout.write(to_json(finding) if args.format == "json" else findings_table([finding]))
    return exits.OK


def _keys(commands: Commands, parent: argparse.ArgumentParser) -> None:
    p = commands.add_parser("keys", parents=[parent], help="list, create or revoke API keys")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", parents=[parent], help="every key (never the secrets)")
    _format(listing)
    listing.set_defaults(run=list_keys)
    create = sub.add_parser("create", parents=[parent], help="a new key, printed once")
    create.add_argument("name")
    create.add_argument("--scope", action="append", help="repeatable (default: read scopes)")
    create.add_argument("--expires-at", type=_date)
    _format(create)
    create.set_defaults(run=create_key)
    revoke = sub.add_parser("revoke", parents=[parent], help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=revoke_key)


def list_keys(client: VigilClient, args: argparse.Namespace) -> int:
    """Print the organisation's keys."""
    keys = client.list_keys()
    if args.format == "json":
        sys.stdout.write(to_json(keys))
    else:
        rows = [(k.id, k.name, k.prefix, ",".join(k.scopes), k.revoked_at or "") for k in keys]
        sys.stdout.write(table(("ID", "NAME", "PREFIX", "SCOPES", "REVOKED"), rows))
    return exits.OK


def create_key(client: VigilClient, args: argparse.Namespace) -> int:
    """Create a key; the secret is printed this once."""
    new = client.create_key(args.name, scopes=args.scope, expires_at=args.expires_at)
    if args.format == "json":
        sys.stdout.write(to_json(new))
    else:
        print(f"key {new.id} ({new.name}, {','.join(new.scopes)}); it is shown only once:")
        print(new.key)
    return exits.OK


def revoke_key(client: VigilClient, args: argparse.Namespace) -> int:
    """Revoke a key."""
    client.revoke_key(args.key_id)
    print(f"key {args.key_id} revoked", file=sys.stderr)
    return exits.OK


def _webhooks(commands: Commands, parent: argparse.ArgumentParser) -> None:
    p = commands.add_parser("webhooks", parents=[parent], help="manage webhook endpoints")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", parents=[parent], help="every endpoint")
    _format(listing)
    listing.set_defaults(run=list_webhooks)
    create = sub.add_parser("create", parents=[parent], help="a new endpoint; secret printed once")
    create.add_argument("url")
    create.add_argument("--event", action="append", choices=EVENT_TYPES, help="repeatable")
    create.add_argument("--description", default="")
    _format(create)
    create.set_defaults(run=create_webhook)
    for name, helptext, handler in (
        ("delete", "delete an endpoint and its delivery log", delete_webhook),
        ("rotate-secret", "a new secret (printed once)", rotate_secret),
        ("deliveries", "the endpoint's recent deliveries", deliveries),
    ):
        action = sub.add_parser(name, parents=[parent], help=helptext)
        action.add_argument("endpoint_id")
        _format(action)
        action.set_defaults(run=handler)
    redeliver = sub.add_parser("redeliver", parents=[parent], help="send a delivery again")
    redeliver.add_argument("endpoint_id")
    redeliver.add_argument("delivery_id")
    _format(redeliver)
    redeliver.set_defaults(run=redeliver_one)


def list_webhooks(client: VigilClient, args: argparse.Namespace) -> int:
    """Print the endpoints."""
    hooks = client.list_webhooks()
    if args.format == "json":
        sys.stdout.write(to_json(hooks))
    else:
        rows = [(h.id, h.url, ",".join(h.event_types), h.enabled, h.disabled_reason) for h in hooks]
        sys.stdout.write(table(("ID", "URL", "EVENTS", "ENABLED", "DISABLED REASON"), rows))
    return exits.OK


def create_webhook(client: VigilClient, args: argparse.Namespace) -> int:
    """Create an endpoint; its secret is printed this once."""
    new = client.create_webhook(args.url, event_types=args.event, description=args.description)
    if args.format == "json":
        sys.stdout.write(to_json(new))
    else:
        print(f"webhook {new.id} -> {new.url}; its secret is shown only once:")
        print(new.secret)
    return exits.OK


def delete_webhook(client: VigilClient, args: argparse.Namespace) -> int:
    """Delete an endpoint."""
    client.delete_webhook(args.endpoint_id)
    print(f"webhook {args.endpoint_id} deleted", file=sys.stderr)
    return exits.OK


def rotate_secret(client: VigilClient, args: argparse.Namespace) -> int:
    """Rotate an endpoint's secret."""
    rotated = client.rotate_webhook_secret(args.endpoint_id)
    sys.stdout.write(to_json(rotated) if args.format == "json" else rotated.secret + "\n")
    return exits.OK


def deliveries(client: VigilClient, args: argparse.Namespace) -> int:
    """Print an endpoint's latest deliveries."""
    page = client.list_deliveries(args.endpoint_id)
    if args.format == "json":
        sys.stdout.write(to_json(page.items))
    else:
        rows = [(d.id, d.event_type, d.state, d.last_status, d.created_at) for d in page.items]
        sys.stdout.write(table(("ID", "EVENT", "STATE", "LAST STATUS", "CREATED"), rows))
    return exits.OK


def redeliver_one(client: VigilClient, args: argparse.Namespace) -> int:
    """Queue a delivery again."""
    delivery = client.redeliver(args.endpoint_id, args.delivery_id)
    sys.stdout.write(
        to_json(delivery) if args.format == "json" else f"{delivery.id} {delivery.state}\n"
    )
    return exits.OK
