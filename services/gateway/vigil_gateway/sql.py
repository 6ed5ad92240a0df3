"""Building parameterised WHERE clauses from optional filters (never formatting values in)."""

from __future__ import annotations


class Where:
    """Conditions joined with AND; each ``?`` in a condition becomes the next ``$n``."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[object] = []

    def add(self, condition: str, *values: object) -> Where:
        """Append ``condition`` with its values, in order."""
        for value in values:
            self.args.append(value)
            condition = condition.replace("?", f"${len(self.args)}", 1)
        self.conditions.append(condition)
        return self

    def add_if(self, value: object, condition: str) -> Where:
        """Append ``condition`` only when a filter was given (not ``None`` nor empty)."""
        if value is None or value in ([], ""):
            return self
        return self.add(condition, value)

    @property
    def sql(self) -> str:
        """The clause, ``TRUE`` when there is no condition."""
        return " AND ".join(self.conditions) or "TRUE"

    @property
    def next_param(self) -> int:
        """The number the next ``$n`` would take."""
        return len(self.args) + 1
