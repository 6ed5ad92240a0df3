"""Okapi BM25 over code chunks: lexical relevance for retrieval, deterministic and local.

A short own implementation rather than ``rank-bm25`` or ``bm25s``: both need numpy (``bm25s``
also scipy), which Vigil does not otherwise install, while an index of a few thousand chunks
scores in milliseconds in plain Python. Identifiers are split at snake_case and camelCase
boundaries, so ``getUserById`` matches a query about ``user``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Final

_IDENTIFIER: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# Words in almost every chunk of code: they would only add noise to the scores.
_STOP: Final = frozenset(
    {
        "the", "and", "for", "def", "return", "self", "if", "else", "in", "is", "not", "none",
        "true", "false", "null", "var", "let", "const", "function", "import", "from", "this",
        "new", "int", "str", "string", "public", "private", "static", "void", "to", "of", "a",
    }
)  # fmt: skip
K1: Final = 1.5
B: Final = 0.75


def tokenize(text: str) -> list[str]:
    """Lower-cased words of ``text``: whole identifiers and their snake/camel parts."""
    tokens: list[str] = []
    for identifier in _IDENTIFIER.findall(text.replace("_", " ")):
        parts = _CAMEL.findall(identifier)
        words = [identifier.lower()] + ([p.lower() for p in parts] if len(parts) > 1 else [])
        tokens += [w for w in words if len(w) > 1 and w not in _STOP]
    return tokens


class BM25:
    """An index of documents (token lists) scored against a query with Okapi BM25.

    Postings (word -> document -> count) keep a query's cost to the documents sharing its
    words, so a whole file can be the query against a tree's chunks.
    """

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self._size = len(documents)
        lengths = [len(doc) for doc in documents]
        average = (sum(lengths) / len(documents)) if documents else 0.0
        # Per document: K1 * (1 - B + B * length / average), the term-frequency saturation.
        self._norms = [K1 * (1 - B + B * n / average) if average else K1 for n in lengths]
        self._postings: dict[str, dict[int, int]] = {}
        for position, doc in enumerate(documents):
            for word, count in Counter(doc).items():
                self._postings.setdefault(word, {})[position] = count
        # The "plus one" variant of IDF: never negative, even for a word in most documents.
        self._idf = {
            word: math.log(1 + (self._size - len(docs) + 0.5) / (len(docs) + 0.5))
            for word, docs in self._postings.items()
        }

    def scores(self, query: Sequence[str]) -> list[float]:
        """The score of every document for ``query`` (0 when no word is shared)."""
        results = [0.0] * self._size
        for word in dict.fromkeys(query):
            idf = self._idf.get(word)
            if idf is None:
                continue
            for position, tf in self._postings[word].items():
                results[position] += idf * tf * (K1 + 1) / (tf + self._norms[position])
        return results
