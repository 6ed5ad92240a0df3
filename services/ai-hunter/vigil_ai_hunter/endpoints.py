"""The endpoint index as the hunter sees it: routes that take requests, a priority input.

Static scanning finds a tree's routes (method, path, the handler's file and line, whether an
authentication check is visible). A file that handles requests is where attacker input lands,
so selection ranks it higher, retrieval starts from the handler, and the prompt names the
routes. The hunter only reads this small typed view of table ``scan_endpoints`` (migration
0013, written by ``vigil_static_scan.endpoints``); with no rows it hunts as before.
"""

from __future__ import annotations

import uuid
from typing import Final

import msgspec

from vigil_common.db import Pool

_QUERY: Final = (
    "SELECT method, path, file_path, line, auth FROM scan_endpoints"
    " WHERE scan_id = $1 ORDER BY file_path, line, seq"
)


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """One route: ``GET /users/{id}`` handled at ``file``:``line``."""

    method: str
    path: str
    file: str
    line: int
    # False when no authentication check was seen on the route; None when unknown.
    auth_visible: bool | None = None

    def describe(self) -> str:
        """The route as the prompt lists it."""
        if self.auth_visible is None:
            seen = "authentication unknown"
        else:
            seen = "authentication visible" if self.auth_visible else "no authentication visible"
        return f"{self.method} {self.path} (handler at line {self.line}, {seen})"


async def load_endpoints(pool: Pool, scan_id: uuid.UUID) -> list[Endpoint]:
    """The scan's routes from the endpoint index (empty when the static stage found none)."""
    rows = await pool.fetch(_QUERY, scan_id)
    return [
        Endpoint(
            method=row["method"],
            path=row["path"],
            file=row["file_path"],
            line=row["line"],
            auth_visible=row["auth"],
        )
        for row in rows
    ]
