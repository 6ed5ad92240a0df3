"""A rough 0-100 complexity score of a source tree, and its label, from size and shape.

::

    size       = 50 * min(1, log10(1 + lines of code) / 6)       1 M lines → 50
    files      = 20 * min(1, log10(1 + included files) / 4)      10 000 files → 20
    languages  = 20 * min(1, (programming languages - 1) / 5)    6 languages → 20
    depth      = 10 * min(1, deepest folder nesting / 10)        10 levels → 10
    score      = round(size + files + languages + depth)

Labels: < 30 small, < 55 moderate, < 80 large, else very large. Data formats (JSON, YAML,
TOML, XML) are not programming languages here: every project has some.
"""

from __future__ import annotations

import math
from typing import Final, Literal

Label = Literal["small", "moderate", "large", "very large"]
DATA_FORMATS: Final = frozenset({"json", "yaml", "toml", "xml"})
_THRESHOLDS: Final[tuple[tuple[int, Label], ...]] = ((30, "small"), (55, "moderate"), (80, "large"))


def _share(value: float, full: float) -> float:
    return min(1.0, max(0.0, value) / full)


def complexity_score(lines: int, files: int, languages: set[str], max_depth: int) -> int:
    """The score (0-100) of a tree with these totals; the formula is in the module docstring."""
    programming = len(languages - DATA_FORMATS)
    score = (
        50 * _share(math.log10(1 + lines), 6)
        + 20 * _share(math.log10(1 + files), 4)
        + 20 * _share(programming - 1, 5)
        + 10 * _share(max_depth, 10)
    )
    return round(score)


def complexity_label(score: int) -> Label:
    """``small``, ``moderate``, ``large`` or ``very large``."""
    for limit, label in _THRESHOLDS:
        if score < limit:
            return label
    return "very large"
