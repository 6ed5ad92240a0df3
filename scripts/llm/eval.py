"""``make eval``: how the AI stages do on the fixture apps, against their ground truth.

Runs each app under services/static-scan/tests/fixtures/apps/ through the real static, hunter
and validator stages (pipeline.py) with the model at ``--base-url``/``--model`` (or the
recorded answers with ``--replay``, or no model at all with neither), then prints:

- the findings the validator filtered, by rule and by model, and how many of them were real
  (a ground-truth vulnerability; should be none). Duplicates merged into a kept finding are
  counted apart: merging loses nothing;
- the hunter's findings, how many were real, and its extra true findings: vulnerabilities no
  static finding matched;
- recall and precision of what is finally reported.

A finding is real when it is in a ground-truth file, its lines cover the entry's line (±1) and
it carries the entry's CWE (the static stage's precision test uses the same rule).

Usage: ``python scripts/llm/eval.py --base-url http://127.0.0.1:8081/v1 --model NAME
[--apps python,go] [--json out.json]`` or ``python scripts/llm/eval.py --replay``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import LANGUAGES, AppRun, is_real, lab, run_app
from replay import replay_server


@dataclass
class Figures:
    """The eval's counts for one app (or all of them)."""

    vulns: int = 0
    static: int = 0
    static_real: int = 0
    hunted: int = 0
    hunted_real: int = 0
    hunter_extra: int = 0
    rule_filtered: int = 0
    rule_filtered_real: int = 0
    model_filtered: int = 0
    model_filtered_real: int = 0
    duplicates: int = 0
    lowered: int = 0
    reported: int = 0
    reported_real: int = 0
    covered: int = 0
    covered_before: int = 0

    def add(self, other: Figures) -> None:
        """Sum another app's figures into these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _by_model(finding: dict[str, Any]) -> bool:
    return str(finding["filter_reason"] or "").startswith("the model judged")


def figures(run: AppRun) -> Figures:
    """The counts for one app run."""
    truth = run.truth
    static = [f for f in run.hunted if f["scanner"] != "ai"]
    ai = [f for f in run.hunted if f["scanner"] == "ai" and f["rule_id"].startswith("ai.cwe-")]
    filtered = [f for f in run.final if f["status"] == "filtered" and not f["duplicate"]]
    by_model = [f for f in filtered if _by_model(f)]
    by_rule = [f for f in filtered if not _by_model(f)]
    reported = [f for f in run.final if f["status"] == "reported"]
    static_covered = {e for e in truth if any(_m(f, e) for f in static)}
    ai_covered = {e for e in truth if any(_m(f, e) for f in ai)}
    # A duplicate's survivor carries the group's CWEs, so covering by reported ones is fair.
    return Figures(
        vulns=len(truth),
        static=len(static),
        static_real=sum(is_real(f, truth) for f in static),
        hunted=len(ai),
        hunted_real=sum(is_real(f, truth) for f in ai),
        hunter_extra=len(ai_covered - static_covered),
        rule_filtered=len(by_rule),
        rule_filtered_real=sum(is_real(f, truth) for f in by_rule),
        model_filtered=len(by_model),
        model_filtered_real=sum(is_real(f, truth) for f in by_model),
        duplicates=sum(1 for f in run.final if f["duplicate"]),
        lowered=sum(
            1
            for f in reported
            if (f["provenance"].get("verdict") or {}).get("verdict") == "false_positive"
        ),
        reported=len(reported),
        reported_real=sum(is_real(f, truth) for f in reported),
        covered=sum(1 for e in truth if any(_m(f, e) for f in reported)),
        covered_before=len(static_covered | ai_covered),
    )


def _m(finding: dict[str, Any], entry: Any) -> bool:
    return is_real(finding, [entry])


def table(rows: dict[str, Figures]) -> str:
    """The figures as a fixed-width table, one row per app and a total."""
    head = (
        f"{'app':<11}{'vulns':>6}{'static':>8}{'real':>6}{'ai':>5}{'real':>6}{'extra':>7}"
        f"{'rule-filt':>10}{'real':>6}{'model-filt':>11}{'real':>6}{'lowered':>8}{'dups':>6}"
        f"{'reported':>9}{'real':>6}{'recall':>8}"
    )
    lines = [head]
    for name, f in rows.items():
        recall = f.covered / f.vulns if f.vulns else 1.0
        lines.append(
            f"{name:<11}{f.vulns:>6}{f.static:>8}{f.static_real:>6}{f.hunted:>5}"
            f"{f.hunted_real:>6}{f.hunter_extra:>7}{f.rule_filtered:>10}{f.rule_filtered_real:>6}"
            f"{f.model_filtered:>11}{f.model_filtered_real:>6}{f.lowered:>8}{f.duplicates:>6}"
            f"{f.reported:>9}{f.reported_real:>6}{recall:>8.2f}"
        )
    return "\n".join(lines)


def details(runs: Sequence[AppRun]) -> str:
    """Every real finding the validator filtered, and every extra true hunter finding."""
    lines = []
    for run in runs:
        for f in run.final:
            if f["status"] == "filtered" and not f["duplicate"] and is_real(f, run.truth):
                lines.append(
                    f"  {run.language} REAL FILTERED {f['file_path']}:{f['start_line']}"
                    f" {f['rule_id']}: {f['filter_reason']}"
                )
        static = [f for f in run.hunted if f["scanner"] != "ai"]
        for f in run.hunted:
            if f["scanner"] == "ai" and is_real(f, run.truth):
                extra = not any(_m(s, e) for s in static for e in run.truth if _m(f, e))
                kind = "EXTRA TRUE" if extra else "true (static too)"
                lines.append(
                    f"  {run.language} hunter {kind} {f['file_path']}:{f['start_line']}"
                    f" {','.join(f['cwe'])} {f['title']}"
                )
        lines.append(f"  {run.language} scan: {run.scan.get('summary')}")
        history = run.scan.get("history", [])
        lines += [f"    {h}" for h in history if h.startswith(("hunt.done", "validate.done"))]
    return "\n".join(lines)


async def evaluate(
    base_url: str | None, model: str | None, apps: Sequence[str]
) -> tuple[list[AppRun], dict[str, Figures]]:
    """Run the apps (one at a time: the model server is the bottleneck) and count."""
    runs = []
    async with lab(base_url, model) as ctx:
        for language in apps:
            print(f"{language}: scanning", file=sys.stderr, flush=True)
            runs.append(await run_app(ctx, language))
    rows = {run.language: figures(run) for run in runs}
    total = Figures()
    for f in rows.values():
        total.add(f)
    rows["total"] = total
    return runs, rows


async def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", default="", help="the server's /v1 root")
    parser.add_argument("--model", default="", help="the model name to send")
    parser.add_argument("--replay", action="store_true", help="answer from the recordings")
    parser.add_argument("--apps", default=",".join(LANGUAGES))
    parser.add_argument("--json", default="", help="also write the figures here")
    args = parser.parse_args(argv)
    apps = [a for a in args.apps.split(",") if a]
    if args.replay:
        async with replay_server() as (url, model, server):
            runs, rows = await evaluate(url, model, apps)
            if server.misses:
                print(f"{len(server.misses)} prompts had no recording", file=sys.stderr)
    else:
        runs, rows = await evaluate(args.base_url or None, args.model or None, apps)
    model_name = "replayed recordings" if args.replay else (args.model or "no model (rules only)")
    print(f"\nVigil AI stages on the fixture apps, model: {model_name}")
    print(table(rows))
    print(details(runs))
    if args.json:
        text = json.dumps({k: vars(v) for k, v in rows.items()}, indent=2)
        await asyncio.to_thread(Path(args.json).write_text, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
