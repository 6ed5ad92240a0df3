"""Language detection by extension, file name, shebang and content."""

from __future__ import annotations

import pytest

from vigil_ingest.languages import count_lines, language_of, shebang_language


@pytest.mark.parametrize(
    ("head", "language"),
    [
        (b"#!/usr/bin/env python3\n", "python"),
        (b"#!/usr/bin/python3.11 -u\n", "python"),
        (b"#!/usr/bin/env -S python3 -X dev\n", "python"),
        (b"#!/usr/bin/env node\n", "javascript"),
        (b"#!/bin/sh\n", "shell"),
        (b"#!/usr/bin/env bash\n", "shell"),
        (b"#!/usr/bin/env ruby\n", "ruby"),
        (b"#!/usr/bin/perl -w\n", "perl"),
        (b"#!/usr/bin/env FOO=1 php\n", "php"),
        (b"#!/usr/bin/unknown\n", None),
        (b"#!\n", None),
        (b"print(1)\n", None),
    ],
)
def test_shebang(head: bytes, language: str | None) -> None:
    assert shebang_language(head) == language


@pytest.mark.parametrize(
    ("path", "head", "language"),
    [
        ("src/App.TSX", b"", "typescript"),
        ("main.go", b"", "go"),
        ("Dockerfile", b"FROM alpine\n", "dockerfile"),
        ("scripts/deploy", b"#!/bin/bash\n", "shell"),
        ("notes.txt", b"#!/bin/bash\n", "shell"),
        ("README", b"hello", None),
        ("inc/x.h", b"int f(void);\n", "c"),
        ("inc/x.h", b"namespace app {\nclass A {};\n}\n", "cpp"),
        ("a.py", b"#!/bin/bash\n", "python"),
    ],
)
def test_language_of(path: str, head: bytes, language: str | None) -> None:
    assert language_of(path, head) == language


def test_counts_non_blank_lines() -> None:
    assert count_lines(b"a\n\n  \nb\r\nc") == 3
    assert count_lines(b"") == 0
