"""How much attack surface each file serves, from the endpoint index (for the AI hunter)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from vigil_static_scan.endpoints.model import Endpoint

# A route is worth a look; one with no visible check is worth more. Capped so a routing
# table with hundreds of routes does not crowd out every other file.
ROUTE_WEIGHT: Final = 1.0
UNGUARDED_WEIGHT: Final = 2.0
MAX_FILE_WEIGHT: Final = 6.0


def route_risk(endpoints: Iterable[Endpoint]) -> dict[str, float]:
    """File path → extra risk for the routes it handles (unguarded ones count triple)."""
    risk: dict[str, float] = {}
    for endpoint in endpoints:
        weight = ROUTE_WEIGHT + (0.0 if endpoint.auth else UNGUARDED_WEIGHT)
        risk[endpoint.file_path] = min(MAX_FILE_WEIGHT, risk.get(endpoint.file_path, 0) + weight)
    return risk
