"""Retrieval: callees, callers and related code from other files, routes and static findings."""

from __future__ import annotations

from vigil_ai_hunter.context import (
    CALLEE,
    CALLER,
    MAX_CONTEXT_CHARS,
    RELATED,
    build_index,
    definitions_in,
    referenced_names,
    retrieve,
)
from vigil_ai_hunter.endpoints import Endpoint
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

# A second definition of run_query elsewhere: the imported module's one must win.
LEGACY = """\
def run_query(sql):
    return None
"""

# Code about users and passwords, sharing no called name with ROUTES: only relevance finds it.
USERS = """\
def hash_user_password(users_password):
    return users_password[::-1]
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
    callees = [(d.path, d.name) for d in context.definitions if d.role == CALLEE]
    assert callees == [("app/db.py", "run_query")]
    assert context.static_findings == [
        "lines 6-6: python.sqli (high, CWE-89): SQL built from strings"
    ]


def test_a_callee_defined_twice_resolves_to_the_imported_module() -> None:
    index = build_index({"app/a_legacy.py": LEGACY, "app/db.py": DB, "app/routes.py": ROUTES})
    context = retrieve("app/routes.py", ROUTES, index, [])
    [callee] = [d for d in context.definitions if d.role == CALLEE]
    assert (callee.path, callee.name) == ("app/db.py", "run_query")


def test_callers_of_the_files_functions_are_retrieved() -> None:
    index = build_index({"app/db.py": DB, "app/routes.py": ROUTES, "web/t.js": JS})
    context = retrieve("app/db.py", DB, index, [])
    callers = [(d.path, d.name, d.role) for d in context.definitions if d.role == CALLER]
    assert callers == [("app/routes.py", "show", CALLER)]


def test_related_code_is_found_by_bm25_when_nothing_is_called() -> None:
    query = "def check_user(users_password):\n    return len(users_password) > 3\n"
    index = build_index({"app/check.py": query, "app/users.py": USERS, "web/t.js": JS})
    context = retrieve("app/check.py", query, index, [])
    assert [(d.path, d.role) for d in context.definitions] == [("app/users.py", RELATED)]


def test_routes_are_listed_and_the_handlers_calls_come_first() -> None:
    handler_first = ROUTES + "\n\ndef other():\n    return render('x', 1)\n"
    files = {"app/db.py": DB, "app/routes.py": handler_first, "web/t.js": JS}
    route = Endpoint(method="GET", path="/show", file="app/routes.py", line=4, auth_visible=False)
    context = retrieve("app/routes.py", handler_first, build_index(files), [], [route])
    assert context.endpoints == ["GET /show (handler at line 4, no authentication visible)"]
    assert [d.name for d in context.definitions if d.role == CALLEE][:2] == ["run_query", "render"]


def test_the_context_stays_within_its_character_budget() -> None:
    big = "\n".join(f"def helper_{n}(x):\n" + "    x = x + 1\n" * 20 for n in range(40))
    user = "\n".join(f"helper_{n}(1)" for n in range(40))
    context = retrieve("app/u.py", user, build_index({"app/h.py": big, "app/u.py": user}), [])
    assert 0 < len(context.definitions) <= 8
    assert sum(len(d.code) for d in context.definitions) <= MAX_CONTEXT_CHARS


def test_retrieval_is_deterministic() -> None:
    files = {"app/db.py": DB, "app/routes.py": ROUTES, "web/t.js": JS, "app/users.py": USERS}
    first = retrieve("app/routes.py", ROUTES, build_index(files), [])
    again = retrieve("app/routes.py", ROUTES, build_index(dict(reversed(files.items()))), [])
    assert first == again


def test_embeddings_add_code_that_shares_no_words_with_the_file() -> None:
    query = "def check(a):\n    return a\n"
    files = {"app/check.py": query, "app/far.py": LEGACY, "web/t.js": JS}
    index = build_index(files)
    assert retrieve("app/check.py", query, index, []).definitions == []  # nothing lexical
    # Vectors as an embeddings server would give them: far.py's chunk points where the file does.
    index.vectors = {i: [1.0, 0.0] if c.path == "app/far.py" else [0.0, 1.0]
                     for i, c in enumerate(index.chunks)}  # fmt: skip
    index.file_vectors = {"app/check.py": [1.0, 0.0]}
    related = retrieve("app/check.py", query, index, []).definitions
    assert [(d.path, d.role) for d in related] == [("app/far.py", RELATED)]


def test_a_route_in_a_class_starts_from_its_method_not_the_whole_class() -> None:
    views = (
        "import app.db as db\n\n\nclass Views:\n"
        "    def index(self):\n        return render('i', 1)\n\n"
        "    def show(self, request):\n        return db.run_query(request.args['q'])\n"
    )
    index = build_index({"app/db.py": DB, "app/views.py": views, "web/t.js": JS})
    route = Endpoint(method="GET", path="/s", file="app/views.py", line=9, auth_visible=True)
    routed = retrieve("app/views.py", views, index, [], [route])
    assert [d.name for d in routed.definitions if d.role == CALLEE] == ["run_query", "render"]
    # Without the route, names come in order of use: render first.
    plain = retrieve("app/views.py", views, index, [])
    assert [d.name for d in plain.definitions if d.role == CALLEE] == ["render", "run_query"]


def test_python_names_skip_local_variables_modules_and_test_code() -> None:
    text = (
        "from app.answers import accept\nimport os\n\n\n"
        "def hunt(items):\n    context = build(items)\n    return accept(context).render()\n"
    )
    assert referenced_names(text, "app/hunt.py") == ["accept", "build", "render"]
    files = {
        "app/hunt.py": text,
        "app/util.py": "def context():\n    return 1\n\n\ndef build(x):\n    return x\n",
        "app/tests/test_util.py": "def build(x):\n    return None\n",  # sorts first
    }
    context = retrieve("app/hunt.py", text, build_index(files), [])
    assert [(d.path, d.name) for d in context.definitions if d.role == CALLEE] == [
        ("app/util.py", "build")
    ]


def test_many_callees_leave_room_for_callers() -> None:
    helpers = "\n\n".join(f"def helper_{n}(x):\n    return x" for n in range(10))
    user = "\n".join(f"helper_{n}(1)" for n in range(10)) + "\n\ndef entry(y):\n    return y\n"
    files = {"app/h.py": helpers, "app/u.py": user, "app/z.py": "def go():\n    entry(2)\n"}
    context = retrieve("app/u.py", user, build_index(files), [])
    roles = [d.role for d in context.definitions]
    assert roles == [CALLEE] * 7 + [CALLER]  # callers listed after callees, within 8
    assert context.definitions[-1].name == "go"
