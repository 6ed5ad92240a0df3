"""Lexical helpers for the regex-based extractors (JavaScript, Go, Java): arguments of a call
found by a regex, split at top-level commas, with strings and comments skipped."""

from __future__ import annotations

import re
from typing import Final

_QUOTES: Final = "\"'`"
_OPEN: Final = "([{"
_CLOSE: Final = ")]}"
_IDENT: Final = re.compile(r"[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*")
_LITERAL: Final = re.compile(r"""^\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`$]*)`)\s*$""")


def call_args(source: str, open_paren: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose ``(`` is at ``open_paren``, and the index just
    after its ``)`` (the end of the text when unbalanced)."""
    args, depth, start, i = [], 0, open_paren + 1, open_paren
    while i < len(source):
        char = source[i]
        if char in _QUOTES:
            i = string_end(source, i)
            continue
        if source.startswith("//", i) or source.startswith("/*", i):
            i = _comment_end(source, i)
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
            if depth == 0:
                args.append(source[start:i])
                return [a.strip() for a in args if a.strip()], i + 1
        elif char == "," and depth == 1:
            args.append(source[start:i])
            start = i + 1
        i += 1
    return [a.strip() for a in args if a.strip()], len(source)


def string_end(source: str, i: int) -> int:
    """The index just after the string literal opening at ``i``."""
    quote, i = source[i], i + 1
    while i < len(source) and source[i] != quote:
        i += 2 if source[i] == "\\" else 1
    return i + 1


def _comment_end(source: str, i: int) -> int:
    if source.startswith("//", i):
        end = source.find("\n", i)
    else:
        end = source.find("*/", i)
        end = end + 2 if end >= 0 else -1
    return len(source) if end < 0 else end


def literal(argument: str) -> str | None:
    """The value of a single string literal argument, else ``None``."""
    match = _LITERAL.match(argument)
    if match is None:
        return None
    return next(group for group in match.groups() if group is not None)


def identifiers(argument: str) -> list[str]:
    """The dotted identifiers an argument mentions (``passport.authenticate``, ``requireAuth``)."""
    return [re.sub(r"\s+", "", m.group(0)) for m in _IDENT.finditer(_strip_strings(argument))]


def _strip_strings(argument: str) -> str:
    return re.sub(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)""", '""', argument)


def line_of(source: str, index: int) -> int:
    """The 1-based line number of a character index."""
    return source.count("\n", 0, index) + 1


def mask_comments(source: str) -> str:
    """The source with comments blanked (same length and line breaks), so regexes skip them."""
    out, i = [], 0
    while i < len(source):
        if source[i] in _QUOTES:
            end = string_end(source, i)
            out.append(source[i:end])
            i = end
        elif source.startswith("//", i) or source.startswith("/*", i):
            end = _comment_end(source, i)
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        else:
            out.append(source[i])
            i += 1
    return "".join(out)
