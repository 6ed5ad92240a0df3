"""The client's models cannot drift from the API: every field a client model declares must
exist in the OpenAPI document the gateway serves, with a type the client can decode, and be
required there when the client has no default for it."""

from __future__ import annotations

import asyncio
from typing import Any, Final

import msgspec
import pytest

from conftest import MakeGatewayClient
from vigil_client import VigilClient, models

# Client model → the server schemas it stands for (the first served is checked field by field).
SERVER_NAMES: Final[dict[type[msgspec.Struct], tuple[str, ...]]] = {
    models.Scan: ("ScanOut", "ScanSummary"),
    models.Source: ("Source",),
    models.FileCounts: ("FileCounts",),
    models.HistoryEntry: ("HistoryEntry",),
    models.Finding: ("FindingOut",),
    models.UploadTarget: ("UploadTarget",),
    models.ScanPage: ("ScanList",),
    models.FindingPage: ("FindingList",),
    models.Key: ("KeyOut",),
    models.NewKey: ("NewKey",),
    models.KeyList: ("KeyList",),
    # Qualified when another module's Struct has the same name (msgspec then uses the path).
    models.Webhook: ("EndpointOut", "vigil_gateway.webhooks_api.EndpointOut"),
    models.NewWebhook: ("EndpointCreated",),
    models.WebhookList: ("EndpointList", "vigil_gateway.webhooks_api.EndpointList"),
    models.RotatedSecret: ("SecretRotated",),
    models.Attempt: ("AttemptOut",),
    models.Delivery: ("DeliveryOut",),
    models.DeliveryPage: ("DeliveryPage",),
    models.Organisation: ("Organisation",),
    models.Me: ("Me",),
    models.ErrorBody: ("ErrorBody",),
    models.ErrorResponse: ("ErrorResponse",),
}
BY_NAME: Final = {kind.__name__: names for kind, names in SERVER_NAMES.items()}
_, CLIENT_SCHEMAS = msgspec.json.schema_components(
    list(SERVER_NAMES), ref_template="#/components/schemas/{name}"
)


@pytest.fixture
async def server_schemas(gateway_client: MakeGatewayClient) -> dict[str, Any]:
    gateway = await gateway_client()
    spec = await asyncio.to_thread(VigilClient(str(gateway.make_url(""))).openapi)
    return spec["components"]["schemas"]  # type: ignore[no-any-return]


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "anyOf" in schema:
        return [v for part in schema["anyOf"] for v in _variants(part)]
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return [{**schema, "type": kind} for kind in kinds]
    if "enum" in schema and kinds is None:  # a Literal: the values' JSON types
        names = {str: "string", int: "integer", bool: "boolean"}
        return [{"type": names[type(v)]} for v in schema["enum"]]
    return [schema]


def _accepts(client: dict[str, Any], server: dict[str, Any]) -> bool:
    """Whether a value valid for ``server`` always decodes into ``client``'s type."""
    if server == {} or client == {}:  # Any on either side
        return client == {}
    if (name := _ref(server)) is not None:
        return _ref(client) is not None and name in BY_NAME[str(_ref(client))]
    if server["type"] != client.get("type"):
        return server["type"] == "integer" and client.get("type") == "number"
    if server["type"] == "array":
        return _compatible(client.get("items", {}), server.get("items", {}))
    if server["type"] == "object" and "additionalProperties" in server:
        return _compatible(client.get("additionalProperties", {}), server["additionalProperties"])
    return True


def _compatible(client: dict[str, Any], server: dict[str, Any]) -> bool:
    options = _variants(client)
    return all(any(_accepts(c, s) for c in options) for s in _variants(server))


@pytest.mark.parametrize("kind", list(SERVER_NAMES), ids=lambda kind: kind.__name__)
def test_every_client_field_exists_in_the_served_schema_with_a_compatible_type(
    kind: type[msgspec.Struct], server_schemas: dict[str, Any]
) -> None:
    mine = CLIENT_SCHEMAS[kind.__name__]
    served_as = [name for name in SERVER_NAMES[kind] if name in server_schemas]
    assert served_as, f"the API serves none of {SERVER_NAMES[kind]}"
    theirs = server_schemas[served_as[0]]
    for field, schema in mine["properties"].items():
        assert field in theirs["properties"], f"{kind.__name__}.{field} is not in the API"
        served = theirs["properties"][field]
        assert _compatible(schema, served), f"{kind.__name__}.{field}: {schema} vs {served}"
    missing = set(mine.get("required", [])) - set(theirs.get("required", []))
    assert not missing, f"{kind.__name__} requires fields the API may leave out: {missing}"


def test_the_check_refuses_a_drifted_model() -> None:
    """The comparison itself can fail: nullable on the server, not in the client."""
    assert not _compatible({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]})
    assert not _compatible({"type": "integer"}, {"type": "string"})
    assert _compatible({"anyOf": [{"type": "string"}, {"type": "null"}]}, {"type": "string"})
