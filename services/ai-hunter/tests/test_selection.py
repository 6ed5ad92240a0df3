"""Which files the hunter chooses: risk order, test code left out, caps on count and tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_ai_hunter import hunt
from vigil_ai_hunter.endpoints import Endpoint
from vigil_ai_hunter.selection import (
    ENDPOINT_WEIGHT,
    PROMPT_OVERHEAD_TOKENS,
    UNAUTHENTICATED_WEIGHT,
    is_shipped,
    path_risk,
    select_files,
)
from vigil_common.schemas import ManifestFile, TreeManifest
from vigil_common.trees import TreeWriter


def manifest(*files: tuple[str, str | None, int]) -> TreeManifest:
    entries = [ManifestFile(path, size, "0" * 64, language, 10) for path, language, size in files]
    return TreeManifest(files=entries, total_files=len(entries), total_bytes=0)


def test_attack_surface_paths_outrank_plain_ones() -> None:
    assert path_risk("app/auth/login.py") > path_risk("app/routes.py") > path_risk("app/util.py")
    assert path_risk("lib/colors.py") == 0


def test_tests_examples_and_docs_are_not_shipped() -> None:
    for path in ("tests/test_app.py", "app/foo_test.go", "web/a.spec.ts", "examples/x.py",
                 "docs/conf.py", "pkg/fixtures/data.py", "conftest.py"):  # fmt: skip
        assert not is_shipped(path), path
    assert is_shipped("app/testing_utils_auth.py")


def test_riskiest_first_with_static_density_and_no_signal_left_out() -> None:
    tree = manifest(
        ("app/util.py", "python", 400),
        ("app/routes.py", "python", 400),
        ("app/colors.py", "python", 400),
        ("app/auth.py", "python", 400),
        ("tests/test_auth.py", "python", 400),
        ("README.md", "markdown", 400),
        ("config/settings.yaml", "yaml", 400),
    )
    chosen = select_files(tree, {"app/util.py": 3}, max_files=10, token_budget=100_000)
    # util.py has no risky name but three static findings in ten lines: the densest signal.
    assert [c.path for c in chosen] == ["app/util.py", "app/auth.py", "app/routes.py"]
    assert chosen[0].tokens == 100 + PROMPT_OVERHEAD_TOKENS


def test_count_and_token_budget_cap_the_choice() -> None:
    tree = manifest(
        ("app/auth.py", "python", 40_000), ("app/db.py", "python", 400),
        ("app/api.py", "python", 400), ("app/upload.py", "python", 400),
    )  # fmt: skip
    assert len(select_files(tree, {}, max_files=2, token_budget=100_000)) == 2
    budget = 2 * (100 + PROMPT_OVERHEAD_TOKENS)
    chosen = select_files(tree, {}, max_files=10, token_budget=budget)
    assert {c.path for c in chosen} <= {"app/db.py", "app/api.py", "app/upload.py"}
    assert len(chosen) == 2


def test_a_file_too_large_for_one_prompt_is_skipped() -> None:
    tree = manifest(("app/auth.py", "python", 10_000_000))
    assert select_files(tree, {}, max_files=10, token_budget=10**9) == []


def test_read_code_reads_the_chosen_files_first_and_caps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"app/a.py": "a = 1\n", "app/b.py": "b = 2\n", "app/z_auth.py": "z = 3\n"}
    tree = manifest(*((path, "python", 6) for path in files), ("README.md", "markdown", 6))
    with TreeWriter(tmp_path / "tree.packed") as writer:
        for path, text in {**files, "README.md": "# app\n"}.items():
            writer.add(path, text.encode())
    monkeypatch.setattr(hunt, "MAX_INDEX_BYTES", 12)
    texts = hunt.read_code(tmp_path / "tree.packed", tree, ["app/z_auth.py"])
    # The chosen file always; then other code files in path order while they fit.
    assert texts == {"app/z_auth.py": "z = 3\n", "app/a.py": "a = 1\n"}


def route(file: str, line: int, auth: bool | None) -> Endpoint:
    return Endpoint(method="GET", path=f"/{line}", file=file, line=line, auth_visible=auth)


def test_files_that_handle_routes_come_first_unauthenticated_ones_before_the_rest() -> None:
    tree = manifest(
        ("app/auth.py", "python", 400),
        ("lib/colors.py", "python", 400),
        ("lib/paint.py", "python", 400),
        ("tests/test_x.py", "python", 400),
    )
    routes = [
        route("lib/colors.py", 3, True),
        route("lib/paint.py", 9, True),
        route("lib/paint.py", 2, False),
        route("tests/test_x.py", 1, False),  # test code stays out, routes or not
    ]
    chosen = select_files(tree, {}, max_files=10, token_budget=100_000, endpoints=routes)
    assert [c.path for c in chosen] == ["lib/paint.py", "app/auth.py", "lib/colors.py"]
    paint, auth, colors = chosen
    assert paint.risk == ENDPOINT_WEIGHT + UNAUTHENTICATED_WEIGHT
    assert colors.risk == ENDPOINT_WEIGHT
    assert [e.line for e in paint.endpoints] == [2, 9]  # in line order
    assert auth.endpoints == ()
    # Without an index, the route files have no risk signal and are not chosen.
    plain = select_files(tree, {}, max_files=10, token_budget=100_000)
    assert [c.path for c in plain] == ["app/auth.py"]
