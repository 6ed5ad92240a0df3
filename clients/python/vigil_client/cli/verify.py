"""``vigil verify-webhook``: check a delivery's signature offline (body on stdin)."""

from __future__ import annotations

import argparse
import os
import sys

from vigil_client.cli import exits
from vigil_client.cli.output import to_json
from vigil_client.webhooks import InvalidSignature, verify


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``vigil verify-webhook`` (needs no API key)."""
    p = commands.add_parser(
        "verify-webhook", help="verify a webhook delivery's signature",
        description="Read the raw delivery body from stdin; print the event if a signature "
        "matches the secret (exit 0), else say why (exit 1).",
    )  # fmt: skip
    p.add_argument("--secret", help="the endpoint's secret (default: $VIGIL_WEBHOOK_SECRET)")
    p.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="a delivery header, repeatable (webhook-id, webhook-timestamp, webhook-signature"
        " or X-Vigil-Signature)",
    )  # fmt: skip
    p.set_defaults(run_offline=run)


def run(args: argparse.Namespace) -> int:
    """Verify stdin against the headers and secret."""
    secret = args.secret or os.environ.get("VIGIL_WEBHOOK_SECRET")
    if not secret:
        print("vigil: --secret or VIGIL_WEBHOOK_SECRET is required", file=sys.stderr)
        return exits.ERROR
    headers: dict[str, str] = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            print(f"vigil: --header {header!r} is not 'Name: value'", file=sys.stderr)
            return exits.ERROR
        headers[name.strip()] = value.strip()
    try:
        event = verify(sys.stdin.buffer.read(), headers, secret)
    except InvalidSignature as exc:
        print(f"vigil: invalid signature: {exc}", file=sys.stderr)
        return exits.FINDINGS
    sys.stdout.write(to_json(event))
    return exits.OK
