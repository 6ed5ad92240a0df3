"""Retrieval: definitions from other files that a file uses, and its static findings."""

from __future__ import annotations

from vigil_ai_hunter.context import build_index, definitions_in, referenced_names, retrieve
from vigil_common.schemas import Finding

DB = """\
import sqlite3


def run_query(sql):
    conn = sqlite3.connect("app.db")
    return conn.execute(sql).fetchall()


class Repo:
    def find(self, name):
        return run_query("SELECT * FROM t WHERE name = '%s'" % name)
"""

ROUTES = """\
from app.db import run_query


def show(request):
    name = request.args["name"]
    return run_query("SELECT * FROM users WHERE name = '" + name + "'")
"""

JS = """\
export function render(tpl, data) {
  return tpl.replace("{x}", data);
}
"""


def static(path: str, line: int) -> Finding:
    return Finding(
        scanner="semgrep", rule_id="python.sqli", title="SQL built from strings",
        severity="high", cwe=("CWE-89",), file_path=path, start_line=line, end_line=line,
        fingerprint="f" * 32,
    )  # fmt: skip


def test_definitions_are_cut_at_their_block() -> None:
    found = definitions_in("app/db.py", DB)
    assert [(d.name, d.start_line) for d in found] == [("run_query", 4), ("Repo", 9), ("find", 10)]
    assert found[0].code.splitlines()[-1].strip() == "return conn.execute(sql).fetchall()"
    assert [d.name for d in definitions_in("web/t.js", JS)] == ["render"]


def test_imported_names_come_first() -> None:
    names = referenced_names(JS + ROUTES)
    # run_query is used after render in the text, but it is imported: it comes first.
    assert names.index("run_query") < names.index("render")


def test_retrieve_gives_the_used_definition_from_another_file_and_static_notes() -> None:
    index = build_index({"app/db.py": DB, "app/routes.py": ROUTES, "web/t.js": JS})
    context = retrieve("app/routes.py", ROUTES, index, [static("app/routes.py", 6)])
    assert [(d.path, d.name) for d in context.definitions] == [("app/db.py", "run_query")]
    assert context.static_findings == [
        "lines 6-6: python.sqli (high, CWE-89): SQL built from strings"
    ]


def test_retrieval_is_deterministic() -> None:
    files = {"app/db.py": DB, "app/routes.py": ROUTES, "web/t.js": JS}
    first = retrieve("app/routes.py", ROUTES, build_index(files), [])
    again = retrieve("app/routes.py", ROUTES, build_index(dict(reversed(files.items()))), [])
    assert first == again
