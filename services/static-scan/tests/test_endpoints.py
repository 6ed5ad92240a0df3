"""The endpoint index: every framework's fixture gives exactly the expected routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_static_scan.endpoints import Endpoint, extract, route_risk
from vigil_static_scan.endpoints.model import join_paths

FIXTURES = Path(__file__).parent / "fixtures" / "endpoints"
APPS = Path(__file__).parent / "fixtures" / "apps"

Row = tuple[str, str, str, int, str, str, str]  # method, path, file, line, handler, fw, hint


def rows(found: list[Endpoint]) -> list[Row]:
    return [
        (e.method, e.path, e.file_path, e.line, e.handler, e.framework, e.auth_hint) for e in found
    ]


EXPECTED: dict[str, list[Row]] = {
    "flask": [
        ("GET", "/", "app.py", 14, "index", "flask", ""),
        ("GET", "/notes", "app.py", 20, "notes", "flask", "login_required"),
        ("POST", "/notes", "app.py", 20, "notes", "flask", "login_required"),
        ("POST", "/login", "app.py", 25, "login", "flask", ""),
        ("DELETE", "/admin/users/<int:user_id>", "app.py", 30, "delete_user", "flask",
         "require_admin"),
        ("GET", "/health", "app.py", 38, "health", "flask", ""),
        ("HEAD", "/health", "app.py", 38, "health", "flask", ""),
    ],
    "fastapi": [
        ("GET", "/health", "main.py", 13, "health", "fastapi", ""),
        ("GET", "/v1/items/{item_id}", "main.py", 18, "read_item", "fastapi", ""),
        ("POST", "/v1/items", "main.py", 23, "create_item", "fastapi", "get_current_user"),
        ("PUT", "/v1/items/{item_id}", "main.py", 28, "update_item", "fastapi",
         "get_current_user"),
        ("DELETE", "/admin/cache", "main.py", 33, "clear_cache", "fastapi", "get_current_user"),
        ("GET", "/echo", "main.py", 38, "echo", "fastapi", "verify_api_key"),
        ("POST", "/echo", "main.py", 38, "echo", "fastapi", "verify_api_key"),
    ],
    "django": [
        ("ANY", "/", "urls.py", 7, "views.home", "django", ""),
        ("ANY", "/profile/", "urls.py", 8, "views.profile", "django", "login_required"),
        ("ANY", "/settings/", "urls.py", 9, "views.SettingsView", "django", "LoginRequiredMixin"),
        ("ANY", r"^public/(?P<slug>\w+)/$", "urls.py", 10, "views.PublicView", "django", ""),
        ("ANY", "/reports/", "urls.py", 11, "views.home", "django", "login_required"),
    ],
    "aiohttp": [
        ("GET", "/status", "server.py", 7, "status", "aiohttp", "token_auth_middleware"),
        ("POST", "/upload", "server.py", 12, "upload", "aiohttp", "token_auth_middleware"),
        ("DELETE", "/items/{id}", "server.py", 23, "delete_item", "aiohttp",
         "token_auth_middleware"),
        ("ANY", "/any", "server.py", 24, "delete_item", "aiohttp", "token_auth_middleware"),
        ("GET", "/list", "server.py", 24, "delete_item", "aiohttp", "token_auth_middleware"),
    ],
    "express": [
        ("GET", "/admin/users", "routes/admin.js", 3, "listUsers", "express", "requireAuth"),
        ("DELETE", "/admin/users/:id", "routes/admin.js", 4, "deleteUser", "express",
         "requireAuth"),
        ("GET", "/public/catalog", "routes/public.js", 4, "listCatalog", "express", ""),
        ("POST", "/public/orders", "routes/public.js", 6, "createOrder", "express",
         "isAuthenticated"),
        ("GET", "/health", "server.js", 7, "<anonymous>", "express", ""),
        ("POST", "/login", "server.js", 9, "login", "express", ""),
        ("GET", "/profile", "server.js", 13, "showProfile", "express", "passport.authenticate"),
    ],
    "koa": [
        ("GET", "/api/books", "app.ts", 8, "listBooks", "koa", ""),
        ("POST", "/api/books", "app.ts", 9, "createBook", "koa", "jwt"),
        ("DELETE", "/api/books/:id", "app.ts", 10, "<anonymous>", "koa", ""),
    ],
    "nethttp": [
        ("ANY", "/health", "main.go", 9, "health", "net/http", ""),
        ("POST", "/files/{name}", "main.go", 10, "uploadFile", "net/http", ""),
        ("ANY", "/admin/", "main.go", 11, "adminPanel", "net/http", "requireAuth"),
        ("ANY", "/debug", "main.go", 12, "debug", "net/http", ""),
    ],
    "gin": [
        ("GET", "/ping", "main.go", 7, "ping", "gin", ""),
        ("POST", "/api/login", "main.go", 9, "login", "gin", ""),
        ("GET", "/api/me/profile", "main.go", 11, "profile", "gin", "AuthRequired"),
        ("DELETE", "/admin/users/:id", "main.go", 14, "deleteUser", "gin", "JWTMiddleware"),
    ],
    "echo": [
        ("GET", "/", "main.go", 10, "home", "echo", ""),
        ("POST", "/orders", "main.go", 11, "createOrder", "echo", "middleware.JWT"),
        ("GET", "/admin/stats", "main.go", 13, "stats", "echo", "middleware.BasicAuth"),
    ],
    "spring": [
        ("POST", "/admin/reindex", "AdminController.java", 9, "reindex", "spring", "@Secured"),
        ("GET", "/legacy/export", "AdminController.java", 17, "doGet", "servlet", ""),
        ("GET", "/api/orders", "OrderController.java", 14, "list", "spring", ""),
        ("GET", "/api/orders/{id}", "OrderController.java", 19, "get", "spring", ""),
        ("DELETE", "/api/orders/{id}", "OrderController.java", 25, "delete", "spring",
         "@PreAuthorize"),
        ("GET", "/api/orders/find", "OrderController.java", 30, "search", "spring", ""),
        ("GET", "/api/orders/search", "OrderController.java", 30, "search", "spring", ""),
        ("POST", "/api/orders/find", "OrderController.java", 30, "search", "spring", ""),
        ("POST", "/api/orders/search", "OrderController.java", 30, "search", "spring", ""),
    ],
}  # fmt: skip


@pytest.mark.parametrize("framework", sorted(EXPECTED))
def test_each_framework_fixture_gives_exactly_its_routes(framework: str) -> None:
    assert rows(extract(FIXTURES / framework)) == EXPECTED[framework]


def test_auth_is_true_exactly_when_a_check_is_named() -> None:
    for framework in EXPECTED:
        for endpoint in extract(FIXTURES / framework):
            assert endpoint.auth == bool(endpoint.auth_hint), endpoint


def test_commented_out_routes_and_outgoing_requests_are_not_routes(tmp_path: Path) -> None:
    (tmp_path / "client.js").write_text(
        "const express = require('express');\n"
        "// app.get('/old', handler);\n"
        "/* router.post('/older', h); */\n"
        "axios.get('/api/users', { params });\n"
        "cache.get('/key', fallback);\n"
        "app.get('/kept', handler);\n"
    )
    assert rows(extract(tmp_path)) == [("GET", "/kept", "client.js", 6, "handler", "express", "")]


def test_files_without_a_web_framework_give_nothing(tmp_path: Path) -> None:
    (tmp_path / "cli.py").write_text("import click\n\n@cli.get('/x')\ndef x():\n    pass\n")
    (tmp_path / "lib.go").write_text('package lib\n\nfunc F() { m.GET("/x", h) }\n')
    (tmp_path / "Util.java").write_text("class Util { void get() {} }\n")
    assert extract(tmp_path) == []


def test_unparsable_python_and_vendored_code_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("from flask import Flask\n@app.route('/x'\ndef x(:\n")
    vendored = tmp_path / "node_modules" / "express"
    vendored.mkdir(parents=True)
    (vendored / "index.js").write_text("const e = require('express'); e.get('/x', h);\n")
    assert extract(tmp_path) == []


@pytest.mark.parametrize(
    ("prefix", "path", "joined"),
    [("", "/a", "/a"), ("/api", "/", "/api"), ("/api/", "/a", "/api/a"), ("api", "", "/api")],
)
def test_prefixes_join_with_one_slash(prefix: str, path: str, joined: str) -> None:
    assert join_paths(prefix, path) == joined


def test_the_python_fixture_app_lists_its_flask_routes_and_the_guarded_admin_one() -> None:
    found = extract(APPS / "python")
    assert {e.framework for e in found} == {"flask"}
    assert len(found) == 21
    guarded = [(e.path, e.auth_hint) for e in found if e.auth]
    assert guarded == [("/admin/stats", "admin_required")]
    # The admin delete route has no check: the same gap vigil-python-admin-route-without-auth
    # reports, visible here as an unguarded endpoint.
    assert ("POST", "/admin/users/<int:user_id>/delete", False) in {
        (e.method, e.path, e.auth) for e in found
    }


def test_the_javascript_fixture_app_resolves_the_mounted_admin_router() -> None:
    found = {(e.method, e.path): e for e in extract(APPS / "javascript")}
    assert len(found) == 25
    assert found["POST", "/admin/catalog/import"].file_path == "routes/admin.js"
    assert found["POST", "/admin/catalog/import"].auth_hint == "requireAuth"
    assert not found["DELETE", "/admin/customers/:id"].auth
    assert found["GET", "/admin/customers"].auth


def test_the_go_and_java_fixture_apps_list_their_handlers() -> None:
    go = extract(APPS / "go")
    assert len(go) == 15 and {e.framework for e in go} == {"net/http"}
    assert ("ANY", "/files/{id}", "fileByID") in {(e.method, e.path, e.handler) for e in go}
    java = extract(APPS / "java")
    assert len(java) == 11 and {e.framework for e in java} == {"spring"}
    assert ("POST", "/books/score", "score") in {(e.method, e.path, e.handler) for e in java}


def test_route_risk_weighs_unguarded_routes_more_and_is_capped() -> None:
    def route(path: str, file: str, auth: bool) -> Endpoint:
        return Endpoint(method="GET", path=path, file_path=file, line=1, framework="flask",
                        auth=auth, auth_hint="login_required" if auth else "")  # fmt: skip

    found = [route("/a", "guarded.py", True), route("/b", "open.py", False)]
    found += [route(f"/{i}", "big.py", False) for i in range(10)]
    assert route_risk(found) == {"guarded.py": 1.0, "open.py": 3.0, "big.py": 6.0}


def test_keyword_only_parameters_without_defaults_are_fine(tmp_path: Path) -> None:
    (tmp_path / "api.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/x')\ndef x(*, q: str, user=Depends(current_user)):\n    pass\n"
    )
    assert rows(extract(tmp_path)) == [("GET", "/x", "api.py", 5, "x", "fastapi", "current_user")]


def test_a_file_an_extractor_trips_on_is_skipped_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def trips(path: str, source: str) -> list[Endpoint]:
        raise IndexError("unexpected shape")

    monkeypatch.setattr("vigil_static_scan.endpoints.tree.golang.extract", trips)
    assert extract(FIXTURES / "gin") == []
    assert rows(extract(FIXTURES / "koa")) == EXPECTED["koa"]
