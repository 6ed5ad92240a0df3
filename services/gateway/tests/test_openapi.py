"""The served OpenAPI document is valid 3.1, matches the router, and the docs work offline."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from vigil_gateway.openapi import SPEC_PATH

Client = TestClient[Any, Any]


async def test_the_spec_is_valid_openapi_3_1_and_served_without_a_key(client: Client) -> None:
    response = await client.get(SPEC_PATH)
    assert response.status == 200
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_v1_route_is_documented_and_nothing_else(client: Client) -> None:
    document = json.loads(await (await client.get(SPEC_PATH)).text())
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    served = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/v1/") and path != SPEC_PATH and route.method != "HEAD":
            served.add((route.method, path))
    assert served == documented


async def test_the_docs_page_and_its_assets_are_served_locally(client: Client) -> None:
    page = await client.get("/docs")
    assert page.status == 200
    html = await page.text()
    assert SPEC_PATH in html
    assert "https://" not in html  # nothing fetched from a CDN
    asset = await client.get("/docs/static/swagger-ui-bundle.js")
    assert asset.status == 200
    assert len(await asset.read()) > 100_000
