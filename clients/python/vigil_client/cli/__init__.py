"""The ``vigil`` command line, for people and CI pipelines (docs/cli.md).

argparse rather than click: it is in the standard library, so the client installs with two
dependencies (httpx2, msgspec) plus pathspec, and it already exits 2 on usage errors, the
code this CLI documents for them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vigil_client.cli import exits, resources, scan, verify
from vigil_client.cli.settings import SettingsError, resolve
from vigil_client.client import VigilClient
from vigil_client.errors import VigilError


def _connection_options() -> argparse.ArgumentParser:
    # SUPPRESS keeps a subcommand's unset option from hiding the same one given before it.
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument(
        "--api-url",
        default=argparse.SUPPRESS,
        help="default: $VIGIL_API_URL, config, http://127.0.0.1:8080",
    )
    group.add_argument(
        "--api-key", default=argparse.SUPPRESS, help="default: $VIGIL_API_KEY, config"
    )
    group.add_argument(
        "--timeout", type=float, default=argparse.SUPPRESS, help="seconds per request (default 30)"
    )
    group.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default ~/.config/vigil/config.toml)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    common = _connection_options()
    parser = argparse.ArgumentParser(
        prog="vigil", parents=[common],
        description="Scan code with a Vigil server and manage its findings, keys and webhooks.",
        epilog="exit codes: 0 ok, 1 findings at or above --fail-on (or a bad signature), "
        "2 usage or API error, 3 the scan failed",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scan.add_parser(commands, common)
    resources.add_parsers(commands, common)
    verify.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    if hasattr(args, "run_offline"):
        return int(args.run_offline(args))
    try:
        settings = resolve(vars(args))
    except SettingsError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return exits.ERROR
    try:
        with VigilClient(settings.api_url, settings.api_key, timeout=settings.timeout) as client:
            return int(args.run(client, args))
    except VigilError as exc:
        print(f"vigil: {exc.message} ({exc.code}{_status(exc)})", file=sys.stderr)
        return exits.ERROR
    except KeyboardInterrupt:
        return 130


def _status(exc: VigilError) -> str:
    return f", HTTP {exc.status}" if exc.status else ""


def entry_point() -> None:
    """The ``vigil`` console script."""
    sys.exit(main())
