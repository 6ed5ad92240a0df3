"""The endpoint index: the HTTP attack surface of a scanned tree (docs/endpoints.md).

``extract(tree)`` lists routes with method, path, handler and whether an auth check is
visible; ``store`` keeps them with the scan and loads them back for later stages;
``route_risk`` turns them into per-file weights for the AI hunter's file selection.
"""

from __future__ import annotations

from vigil_static_scan.endpoints.model import Endpoint
from vigil_static_scan.endpoints.store import index_scan, load_endpoints
from vigil_static_scan.endpoints.surface import route_risk
from vigil_static_scan.endpoints.tree import extract

__all__ = ["Endpoint", "extract", "index_scan", "load_endpoints", "route_risk"]
