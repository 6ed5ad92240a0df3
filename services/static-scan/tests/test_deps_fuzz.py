"""Fuzzing the lockfile parsers: any input gives dependencies or ManifestError, nothing else.

Three kinds of input per file name: random text, real fixtures with bytes cut, repeated and
inserted, and structurally plausible documents with wrong types in the places parsers read.
``VIGIL_FUZZ_EXAMPLES`` sets the examples per test (small by default so ``make test`` stays
quick; ``make fuzz`` raises it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil_static_scan.deps.manifests import Dependency, ManifestError, parser_for

FIXTURES = Path(__file__).parent / "fixtures" / "deps"
EXAMPLES = int(os.environ.get("VIGIL_FUZZ_EXAMPLES") or 20)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Each file name Vigil reads, with a real example of it.
SEEDS = {
    "requirements.txt": "requirements.txt",
    "package-lock.json": "lock_v3/package-lock.json",
    "go.mod": "go.mod",
    "go.sum": "gosum/go.sum",
    "Cargo.lock": "Cargo.lock",
    "poetry.lock": "poetry/poetry.lock",
    "uv.lock": "uv/uv.lock",
    "Pipfile.lock": "pipfile/Pipfile.lock",
    "yarn.lock": "yarn_berry/yarn.lock",
    "pnpm-lock.yaml": "pnpm_v9/pnpm-lock.yaml",
    "Gemfile.lock": "gemfile/Gemfile.lock",
    "composer.lock": "composer/composer.lock",
}
NAMES = sorted(SEEDS)


def _parse_safely(name: str, text: str) -> None:
    parse = parser_for(name)
    assert parse is not None
    try:
        deps = parse(text, name)
    except ManifestError:
        return
    assert isinstance(deps, list)
    assert all(isinstance(dep, Dependency) and dep.line >= 1 for dep in deps)


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(text=st.text(max_size=2000))
def test_fuzz_random_text(name: str, text: str) -> None:
    _parse_safely(name, text)


@st.composite
def _mutated(draw: st.DrawFn, seed: str) -> str:
    """The seed with a few slices cut, repeated or replaced by random bytes."""
    data = bytearray(seed.encode())
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, min(len(data), start + 64)))
        action = draw(st.sampled_from(["cut", "repeat", "insert"]))
        if action == "cut":
            del data[start:end]
        elif action == "repeat":
            data[start:start] = data[start:end] * draw(st.integers(1, 4))
        else:
            data[start:start] = draw(st.binary(max_size=16))
    return data.decode("utf-8", errors="replace")


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_fuzz_mutated_real_lockfiles(name: str, data: st.DataObject) -> None:
    seed = (FIXTURES / SEEDS[name]).read_text()
    _parse_safely(name, data.draw(_mutated(seed)))


_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# The keys each format's parser looks up, so wrong types reach the code that reads them.
_KEYS = st.sampled_from(
    ["packages", "packages-dev", "dependencies", "default", "develop", "name", "version",
     "resolution", "source", "link", "lockfileVersion", "__metadata", "node_modules/a",
     "/a@1.0.0", "a@npm:1.0.0", "registry", "type"]
)  # fmt: skip
_DOCS = st.recursive(
    st.dictionaries(_KEYS, _VALUES, max_size=4),
    lambda inner: st.dictionaries(_KEYS, inner | _VALUES, max_size=4) | st.lists(inner, max_size=3),
    max_leaves=20,
)


def _toml_value(value: Any) -> str:
    """A TOML rendering good enough to reach the parsers (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(pairs) + "}"
    return json.dumps(value if value is not None else "")


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(doc=_DOCS, tables=st.lists(st.dictionaries(_KEYS, _VALUES, max_size=4), max_size=4))
def test_fuzz_near_valid_documents(name: str, doc: Any, tables: list[dict[str, Any]]) -> None:
    # JSON is also YAML, so the same document reaches the JSON and the YAML parsers.
    _parse_safely(name, json.dumps(doc, indent=2))
    toml = "\n".join(
        "[[package]]\n" + "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in t.items())
        for t in tables
    )
    _parse_safely(name, toml)
